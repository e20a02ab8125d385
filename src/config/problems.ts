import type { z } from 'zod'
import { BouncerError } from '../domain/errors.js'

/** A configuration mistake, located by its path in the rules file or the environment variable. */
export interface ConfigProblem {
  readonly path: string
  readonly message: string
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

export function formatProblem(problem: ConfigProblem): string {
  return problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`
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
