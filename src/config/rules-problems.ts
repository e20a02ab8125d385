import type * as Yaml from 'yaml'
import type { Node } from 'yaml'
import type { z } from 'zod'
import { type ConfigProblem, formatPath } from './problems.js'
import { RulesFileSchema } from './rules-schema.js'

/**
 * Problems of a rules file told so that the operator can go straight to the mistake: the bad
 * value, the nearest known key or value for a typo, and (locateProblems) the rule's name and the
 * line and column. All of it runs only when there are problems: a valid file costs nothing here.
 */

/** The schema's issues in the operator's words, each with the value that was wrong. */
export function schemaProblems(error: z.ZodError, document: unknown): ConfigProblem[] {
  return error.issues.flatMap((issue): ConfigProblem[] => {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(RulesFileSchema, issue.path)
      return issue.keys.map((key) => ({
        path: formatPath([...issue.path, key]),
        message: `unknown key${suggestion(key, known) || (known.length === 0 ? '' : ` (expected ${known.join(', ')})`)}`,
      }))
    }
    const value = valueAt(document, issue.path)
    const path = formatPath(issue.path)
    if (issue.code === 'invalid_value') {
      const expected = issue.values.map((option) => String(option))
      const listed = expected.length === 1 ? expected[0] : `one of ${expected.join(', ')}`
      return [
        {
          path,
          message: `expected ${listed}${got(value, '')}${typeof value === 'string' ? suggestion(value, expected) : ''}`,
        },
      ]
    }
    if (issue.code === 'invalid_type') {
      return [
        {
          path,
          message:
            value === undefined
              ? `missing: expected ${issue.expected}`
              : `expected ${issue.expected}${got(value, '')}`,
        },
      ]
    }
    return [{ path, message: `${issue.message}${got(value, issue.message)}` }]
  })
}

/** `; got "10MB"`, unless the message already quotes the value. */
function got(value: unknown, message: string): string {
  const shown = showValue(value)
  if (shown === undefined || (typeof value === 'string' && message.includes(shown))) return ''
  return `; got ${shown}`
}

const SHOWN_LIMIT = 60

function showValue(value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value)
    return keys.length === 0 ? '{}' : `{ ${keys.join(', ')} }`
  }
  const text = JSON.stringify(value) ?? String(value)
  return text.length > SHOWN_LIMIT ? `${text.slice(0, SHOWN_LIMIT - 1)}…` : text
}

function valueAt(document: unknown, path: readonly PropertyKey[]): unknown {
  let value = document
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined
    value = (value as Record<PropertyKey, unknown>)[key]
  }
  return value
}

/** `; did you mean "recipient"?` for a near miss (one edit per three letters, case aside). */
export function suggestion(word: string, candidates: readonly string[]): string {
  const wanted = word.toLowerCase()
  let best: { candidate: string; distance: number } | undefined
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase())
    if (distance === 0 && candidate === word) return ''
    if (best === undefined || distance < best.distance) best = { candidate, distance }
  }
  if (best === undefined || best.distance > Math.max(1, Math.floor(word.length / 3))) return ''
  return `; did you mean "${best.candidate}"?`
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) (rows[0] as number[])[j] = j
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[]
    const previous = rows[i - 1] as number[]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let distance = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, ((rows[i - 2] as number[])[j - 2] ?? 0) + 1)
      }
      row[j] = distance
    }
  }
  return (rows[a.length] as number[])[b.length] ?? 0
}

interface SchemaDef {
  readonly type: string
  readonly shape?: Record<string, z.ZodType>
  readonly innerType?: z.ZodType
  readonly in?: z.ZodType
  readonly element?: z.ZodType
  readonly valueType?: z.ZodType
  readonly options?: readonly z.ZodType[]
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def

/** The object schemas a path can lead to (through optionals, pipes, arrays and unions). */
function objectsAt(schema: z.ZodType, path: readonly PropertyKey[]): SchemaDef[] {
  const def = defOf(schema)
  const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined)
  if (inner !== undefined) return objectsAt(inner, path)
  if (def.type === 'union') return (def.options ?? []).flatMap((option) => objectsAt(option, path))
  const [key, ...rest] = path
  if (key === undefined) return def.type === 'object' ? [def] : []
  const next =
    def.type === 'object'
      ? def.shape?.[String(key)]
      : def.type === 'array'
        ? def.element
        : def.type === 'record'
          ? def.valueType
          : undefined
  return next === undefined ? [] : objectsAt(next, rest)
}

function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const keys = objectsAt(schema, path).flatMap((def) => Object.keys(def.shape ?? {}))
  return [...new Set(keys.filter((key) => !key.startsWith('$')))]
}

/**
 * The parts of the `yaml` package that locate a problem: passed in, so that the function's cold
 * start on rules compiled at package time never loads a YAML parser (load-config.ts).
 */
export type YamlLocator = Pick<typeof Yaml, 'LineCounter' | 'parseDocument' | 'isMap' | 'isScalar' | 'isSeq'>

/**
 * The rule's name, line and column of each problem, from the rules text parsed again with node
 * positions (JSON parses as YAML too). A problem about a pattern file keeps the file's own line.
 */
export function locateProblems(
  text: string,
  problems: readonly ConfigProblem[],
  yaml: YamlLocator,
): ConfigProblem[] {
  const lineCounter = new yaml.LineCounter()
  const document = yaml.parseDocument(text, { lineCounter, uniqueKeys: false })
  if (document.errors.length > 0) return [...problems]
  return problems.map((problem) => {
    const keys = parsePath(problem.path)
    if (keys === undefined) return problem
    const [first, index] = keys
    const ruleName =
      first === 'rules' && typeof index === 'number' ? document.getIn(['rules', index, 'name']) : undefined
    const withRule = typeof ruleName === 'string' ? { ...problem, rule: ruleName } : problem
    if (/\(.* line \d+\)$/.test(problem.path)) return withRule
    const offset = offsetOf(document.contents, keys, yaml)
    if (offset === undefined) return withRule
    const { line, col } = lineCounter.linePos(offset)
    return { ...withRule, line, column: col }
  })
}

/** `rules[2].when.size.over` → `['rules', 2, 'when', 'size', 'over']`; `undefined` for an environment variable. */
function parsePath(path: string): PropertyKey[] | undefined {
  const bare = path.replace(/ \(.*\)$/, '')
  if (bare === '' || /^[A-Z][A-Z0-9_]*$/.test(bare)) return undefined
  const keys: PropertyKey[] = []
  for (const [, key, index] of bare.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    keys.push(index === undefined ? (key ?? '') : Number(index))
  }
  return keys
}

/**
 * Where the value at `keys` starts; for a key that is not there, where its closest parent does
 * (nowhere for a missing top-level key: the whole file is no place to point at).
 */
function offsetOf(root: unknown, keys: readonly PropertyKey[], yaml: YamlLocator): number | undefined {
  let node = root as Node | null
  let offset: number | undefined
  for (const key of keys) {
    if (yaml.isMap(node)) {
      const pair = node.items.find((item) => yaml.isScalar(item.key) && item.key.value === key)
      if (pair === undefined) return offset
      // The key, not its value: an unknown key has no value to speak of, and a bad value is
      // found at once on the line of its key.
      offset = (pair.key as Node).range?.[0] ?? offset
      node = pair.value as Node | null
    } else if (yaml.isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as Node | undefined
      if (item === undefined) return offset
      offset = item.range?.[0] ?? offset
      node = item
    } else {
      return offset
    }
  }
  return offset
}
