import { DeferredPattern, MAX_PATTERN_COST, type Rule, type TextPattern } from '../domain/rules.js'
import type { ConfigProblem } from './problems.js'
import { regexLiteral } from './rules-schema.js'

/**
 * Compiles a `matches` pattern (src/adapters/re2-pattern-engine.ts: RE2 syntax, linear-time
 * matching). Throws an Error whose message says what it cannot run and why.
 */
export interface PatternEngine {
  compile(source: string, flags: string): TextPattern
}

/** Every `matches` pattern of the rules, in order. */
export function patternsOf(rules: readonly Rule[]): DeferredPattern[] {
  return rules.flatMap((rule) =>
    rule.conditions.flatMap((condition) =>
      condition.kind === 'header' &&
      condition.test.kind === 'matches' &&
      condition.test.pattern instanceof DeferredPattern
        ? [condition.test.pattern]
        : [],
    ),
  )
}

/**
 * Compiles each pattern with the engine. A pattern it cannot run, or one too costly to run within
 * the match budget, is a problem reported with the rule's name and the pattern's path.
 */
export function bindPatterns(
  patterns: readonly DeferredPattern[],
  engine: PatternEngine,
  problems: ConfigProblem[],
): void {
  for (const pattern of patterns) {
    const compiled = compilePattern(engine, pattern.rule, pattern.path, pattern.source, problems)
    if (compiled !== undefined) pattern.bind(compiled)
  }
}

/**
 * The patterns of a rules file the schema refused, checked all the same so that one run lists
 * every problem; a pattern whose form the schema already refused is left to that report.
 */
export function checkRawPatterns(document: unknown, engine: PatternEngine, problems: ConfigProblem[]): void {
  const rules = (document as { rules?: unknown } | null)?.rules
  if (!Array.isArray(rules)) return
  rules.forEach((rule: unknown, index) => {
    const entry = rule as { name?: unknown; when?: { header?: { matches?: unknown } } } | null
    const source = entry?.when?.header?.matches
    if (typeof source !== 'string') return
    try {
      regexLiteral(source)
    } catch {
      return
    }
    const name = typeof entry?.name === 'string' ? entry.name : `rules[${index}]`
    compilePattern(engine, name, `rules[${index}].when.header.matches`, source, problems)
  })
}

function compilePattern(
  engine: PatternEngine,
  rule: string,
  path: string,
  text: string,
  problems: ConfigProblem[],
): TextPattern | undefined {
  try {
    const { source, flags } = regexLiteral(text)
    const compiled = engine.compile(source, flags)
    if (compiled.cost > MAX_PATTERN_COST) {
      throw new Error(
        `too complex: it compiles to ${compiled.cost} RE2 instructions, at most ${MAX_PATTERN_COST} (x{n} counts x n times)`,
      )
    }
    return compiled
  } catch (error) {
    problems.push({ path, message: `rule "${rule}": ${(error as Error).message}` })
    return undefined
  }
}
