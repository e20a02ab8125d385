import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import * as yaml from 'yaml'
import { flag } from '../config/environment.js'
import { lintRules } from '../config/lint-rules.js'
import { compileRuleSet, formatOf, resolveBeside } from '../config/load-config.js'
import { bindPatterns } from '../config/patterns.js'
import { ConfigError, type ConfigProblem } from '../config/problems.js'
import { locateProblems } from '../config/rules-problems.js'
import type { RuleSet } from '../domain/rule-set.js'
import { loadPatternEngine } from '../runtime/lazy-adapters.js'
import { unreadable } from './input.js'

export interface LoadedRules {
  readonly path: string
  readonly ruleSet: RuleSet
  readonly warnings: readonly string[]
  /** Valid but risky rules, each with its line in the file. */
  readonly lint: readonly ConfigProblem[]
  readonly patternFiles: readonly string[]
}

/**
 * A rules file compiled exactly as the function compiles it at cold start (BOUNCE_SENDER,
 * DRY_RUN and AWS_REGION from the environment apply here too). The message store is the
 * command's own input, so rules that read the message need no MAIL_BUCKET; `matches` patterns are
 * compiled by the pattern engine the function uses. Throws ConfigError listing every problem, or
 * InputError when the file cannot be read.
 */
export async function loadRules(
  path: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<LoadedRules> {
  const file = resolve(path)
  const problems: ConfigProblem[] = []
  const warnings: string[] = []
  const patternFiles: string[] = []
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw unreadable(path, error)
  }
  // the pattern engine only for a file that may use it, as the function loads it
  const patternEngine = /\bmatches\b/.test(text) ? await loadPatternEngine() : undefined
  const ruleSet = compileRuleSet(
    text,
    formatOf(file),
    (listFile) => {
      const listPath = resolveBeside(file, listFile)
      patternFiles.push(listPath)
      return readFileSync(listPath, 'utf8')
    },
    {
      dryRun: flag.safeParse(env.DRY_RUN ?? '').data === true,
      region: env.AWS_REGION ?? 'us-east-1',
      messageStore: { kind: 'directory', directory: dirname(file) },
      ...(env.BOUNCE_SENDER ? { bounceSender: env.BOUNCE_SENDER } : {}),
    },
    problems,
    warnings,
    patternEngine,
    yaml,
  )
  // a `matches` the text search missed (a JSON key spelt with escapes)
  if (ruleSet !== undefined && patternEngine === undefined && ruleSet.patterns.length > 0) {
    bindPatterns(ruleSet.patterns, await loadPatternEngine(), problems)
  }
  if (ruleSet === undefined || problems.length > 0)
    throw new ConfigError(problems, `rules file ${shown(file)}`)
  const lint = lintRules(ruleSet.rules)
  return {
    path: file,
    ruleSet,
    warnings,
    lint: lint.length === 0 ? [] : locateProblems(text, lint, yaml),
    patternFiles: [...new Set(patternFiles)],
  }
}

/** A path as the operator would type it: relative to the working directory when inside it. */
export function shown(path: string): string {
  const inside = relative(process.cwd(), path)
  return inside === '' || inside.startsWith('..') || isAbsolute(inside) ? path : inside
}
