import type { ListReader } from './compile-rules.js'
import type { ConfigProblem } from './problems.js'

/**
 * Rules compiled at package time (`serverless package`, serverless/packaged-rules.cjs): the rules
 * document as JSON, with the text of every pattern file it names, in one file. The function reads
 * it at cold start with JSON.parse — no YAML parser, one file read — and checks and compiles the
 * document with the same code as any rules file, so nothing is trusted that was not checked.
 */
export interface CompiledRulesFile {
  readonly compiledRules: {
    readonly format: typeof COMPILED_RULES_FORMAT
    /** The rules file it was compiled from, relative to the service. */
    readonly source: string
    readonly note: string
  }
  readonly rules: unknown
  /** Pattern file text by the name the rules give it (`inFile: lists/mailboxes.txt`). */
  readonly patternFiles: Readonly<Record<string, string>>
}

export const COMPILED_RULES_FORMAT = 1

/** The compiled form of a rules document and the pattern files it names. */
export function compiledRulesFile(
  source: string,
  rules: unknown,
  patternFiles: Readonly<Record<string, string>>,
): CompiledRulesFile {
  return {
    compiledRules: {
      format: COMPILED_RULES_FORMAT,
      source,
      note: `Written by serverless package from ${source}; edit that file and package again, not this one.`,
    },
    rules,
    patternFiles,
  }
}

/**
 * The rules document and pattern files inside a compiled rules file; `undefined` when the document
 * is a rules file itself (whose schema has no `compiledRules` key); `null`, with a problem, when it
 * is compiled in a format this version does not read.
 */
export function compiledRulesIn(
  document: unknown,
  problems: ConfigProblem[],
): { rules: unknown; readList: ListReader } | undefined | null {
  if (typeof document !== 'object' || document === null || !('compiledRules' in document)) return undefined
  const { compiledRules, rules, patternFiles } = document as Partial<CompiledRulesFile>
  if (compiledRules?.format !== COMPILED_RULES_FORMAT) {
    problems.push({
      path: 'compiledRules.format',
      message: `expected ${COMPILED_RULES_FORMAT}, got ${JSON.stringify(compiledRules?.format)}: package the rules again with this version`,
    })
    return null
  }
  const files = patternFiles ?? {}
  return {
    rules,
    readList: (name) => {
      const text = Object.hasOwn(files, name) ? files[name] : undefined
      if (typeof text !== 'string') throw new Error('not in the compiled rules')
      return text
    },
  }
}
