import { readFileSync } from 'node:fs'
import { basename, extname, join, relative, resolve } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import * as yaml from 'yaml'
import { patternFilesOf } from '../config/compile-rules.js'
import { compiledRulesFile, compiledRulesIn } from '../config/compiled-rules.js'
import {
  type ConfigFiles,
  formatOf,
  loadFileRules,
  loadSettings,
  parseRulesDocument,
  resolveBeside,
  type Settings,
  validateRulesDocument,
} from '../config/load-config.js'
import { ConfigError, type ConfigProblem } from '../config/problems.js'
import { loadPatternEngine } from './lazy-adapters.js'

/** A rules file checked and compiled for the package (serverless/packaged-rules.cjs). */
export interface PackagedRules {
  /** The rules file the function's environment names, absolute. */
  readonly source: string
  /** Where the compiled file goes, relative to the service: the function's RULES_FILE from now on. */
  readonly compiledName: string
  /** The compiled file's text (compiled-rules.ts). */
  readonly text: string
  readonly ruleNames: readonly string[]
  readonly patternFiles: readonly string[]
  readonly warnings: readonly string[]
}

const nodeFiles: ConfigFiles = { readText: (path) => readFileSync(path, 'utf8'), yaml }

/**
 * The rules file a function's environment names, checked with that environment as its cold start
 * would check it (the same code: loadSettings, loadFileRules), then compiled: the document as JSON
 * with the text of every pattern file it names, wherever those live; `matches` patterns are
 * compiled by the function's pattern engine. The compiled text is then
 * loaded once more the way the function will load it, and must give the very same rules.
 * Throws ConfigError listing every problem; nothing is written here. `deployTimeVariables` name
 * the variables only CloudFormation can give (a Ref): `env` holds a stand-in for each, and what
 * the environment check says of a stand-in is not a problem of the rules (the function checks the
 * real value at cold start).
 *
 * Run at package time only (never imported by a handler: it loads the YAML parser).
 */
export async function packageRules(
  env: Readonly<Record<string, string | undefined>>,
  serviceDirectory: string,
  files: ConfigFiles = nodeFiles,
  deployTimeVariables: readonly string[] = [],
): Promise<PackagedRules> {
  const environmentProblems: ConfigProblem[] = []
  const settings = loadSettings(env, environmentProblems, serviceDirectory)
  const problems = environmentProblems.filter((problem) => !deployTimeVariables.includes(problem.path))
  if (settings.rulesSource.kind !== 'file') {
    throw new Error('the rules come from S3 (RULES_S3_URI): there is nothing to package')
  }
  const source = settings.rulesSource.path
  const withYaml: ConfigFiles = { ...files, yaml: files.yaml ?? yaml }
  // `matches` patterns compiled as the function compiles them before its first decision.
  const patternEngine = await loadPatternEngine()
  const loaded = loadFileRules(settings, withYaml, problems, patternEngine)

  // Valid as it stands: now the same document, and each pattern file it names, into one file.
  const document = parseRulesDocument(withYaml.readText(source), formatOf(source), problems, yaml)
  const inner = compiledRulesIn(document, problems)
  const rulesDocument = inner ? inner.rules : document
  const file = validateRulesDocument(rulesDocument, problems)
  if (file === undefined || inner === null) throw new ConfigError(problems)
  const readList = inner?.readList ?? ((name: string) => withYaml.readText(resolveBeside(source, name)))
  const patternFiles = Object.fromEntries(patternFilesOf(file.rules).map((name) => [name, readList(name)]))
  const compiledName = `${basename(source, extname(source)).replace(/\.compiled$/, '')}.compiled.json`
  const text = `${JSON.stringify(
    compiledRulesFile(relativeName(serviceDirectory, source), rulesDocument, patternFiles),
    null,
    1,
  )}\n`

  // Read back as the function reads it at cold start: the same checks, the same rules.
  const compiledPath = join(serviceDirectory, compiledName)
  const asDeployed: Settings = { ...settings, rulesSource: { kind: 'file', path: compiledPath } }
  const readBack = loadFileRules(
    asDeployed,
    {
      readText: (path) => {
        if (path !== compiledPath) throw new Error('not in the package')
        return text
      },
    },
    [],
    patternEngine,
  )
  const compiledDocument = compiledRulesIn(JSON.parse(text), [])
  if (
    compiledDocument == null ||
    !isDeepStrictEqual(validateRulesDocument(compiledDocument.rules, []), file) ||
    readBack.ruleSet.rules.length !== loaded.ruleSet.rules.length
  ) {
    throw new Error(`${source}: the compiled rules do not read back as the same rules`)
  }
  return {
    source,
    compiledName,
    text,
    ruleNames: loaded.ruleSet.rules.map((rule) => rule.name),
    patternFiles: Object.keys(patternFiles),
    warnings: loaded.warnings,
  }
}

function relativeName(directory: string, path: string): string {
  const name = relative(directory, resolve(path))
  return name.startsWith('..') ? path : name.replaceAll('\\', '/')
}
