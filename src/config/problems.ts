import type { z } from 'zod'
import { BouncerError } from '../domain/errors.js'

/** A configuration mistake, located by its path in the rules file or the environment variable. */
export interface ConfigProblem {
  readonly path: string
  readonly message: string
  /** The name of the rule at `rules[N]`, when the path is inside one. */
  readonly rule?: string
  /** Where in the rules file, 1-based; known only once a problem was located. */
  readonly line?: number
  readonly column?: number
}

/** The one error an invalid configuration stops the function with: every problem, each with its path. */
export class ConfigError extends BouncerError {
  constructor(
    readonly problems: readonly ConfigProblem[],
    readonly source = 'configuration',
  ) {
    super(
      `Invalid ${source} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((problem) => `  - ${formatProblem(problem)}`)
        .join('\n')}`,
    )
  }
}

/** `rules[2] "unknown-mailbox" when.recipent (line 14, column 7): unknown key; did you mean "recipient"?` */
export function formatProblem(problem: ConfigProblem): string {
  const rule = problem.rule === undefined ? undefined : /^(rules\[\d+\])\.?(.*)$/s.exec(problem.path)
  const where =
    rule === undefined || rule === null
      ? problem.path
      : `${rule[1]} "${problem.rule}"${rule[2] === '' ? '' : ` ${rule[2]}`}`
  const at = problem.line === undefined ? '' : ` (line ${problem.line}, column ${problem.column ?? 1})`
  return where === '' && at === '' ? problem.message : `${where}${at}: ${problem.message}`.trimStart()
}

/** `['rules', 2, 'when', 'size', 'over']` → `rules[2].when.size.over` */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`
    const name = String(key)
    return text === '' ? name : `${text}.${name}`
  }, '')
}

export function zodProblems(error: z.ZodError, prefix: readonly PropertyKey[] = []): ConfigProblem[] {
  return error.issues.map((issue) => ({
    path: formatPath([...prefix, ...issue.path]),
    message: issue.message,
  }))
}
