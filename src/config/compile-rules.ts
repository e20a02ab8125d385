import { AddressSet, PatternError } from '../domain/address-set.js'
import { bounceSpec } from '../domain/bounce-spec.js'
import { compileGlob } from '../domain/glob.js'
import type { DmarcPolicy, VerdictName, VerdictStatus } from '../domain/message.js'
import {
  type Condition,
  conditionCost,
  DeferredPattern,
  type FactLevel,
  type Rule,
  type RuleAction,
} from '../domain/rules.js'
import type { ConfigProblem } from './problems.js'
import {
  type AddressConditionEntry,
  type RuleEntry,
  type RulesFile,
  SIZE_PATTERN,
  type WhenEntry,
} from './rules-schema.js'

/** Reads a pattern file named in the rules file (`inFile`), relative to the rules file. */
export type ListReader = (relativePath: string) => string

/** Turns a schema-valid rules file into domain rules, reporting every list problem with its path. */
export function compileRules(
  entries: readonly RuleEntry[],
  readList: ListReader,
  problems: ConfigProblem[],
): Rule[] {
  const lists = new Map<string, AddressSet | undefined>()
  const loadList = (file: string, path: string): AddressSet | undefined => {
    if (!lists.has(file)) lists.set(file, readPatternFile(file, path, readList, problems))
    return lists.get(file)
  }
  return entries.map((entry, index) => ({
    name: entry.name,
    conditions: compileConditions(entry.when ?? {}, entry.name, `rules[${index}].when`, loadList, problems),
    action: compileAction(entry),
  }))
}

/** The rules file's `onUnreadable` as the action it stands for (continue delivers). */
export function compileOnUnreadable(setting: RulesFile['onUnreadable']): RuleAction {
  if (setting === 'continue') return { kind: 'accept' }
  if (setting === 'drop') return { kind: 'drop' }
  return { kind: 'bounce', bounce: bounceSpec(setting.bounce) }
}

const COST_ORDER: Record<FactLevel, number> = { event: 0, size: 1, content: 2 }

function compileConditions(
  when: WhenEntry,
  ruleName: string,
  path: string,
  loadList: (file: string, path: string) => AddressSet | undefined,
  problems: ConfigProblem[],
): Condition[] {
  const conditions: Condition[] = []
  for (const field of ['recipient', 'sender', 'from'] as const) {
    const entry = when[field]
    if (entry === undefined) continue
    const set = addressSet(entry, `${path}.${field}`, loadList, problems)
    if (set !== undefined) {
      const list = entry.inFile ?? entry.notInFile
      conditions.push({
        kind: 'address',
        field,
        set,
        negate: 'notIn' in entry || 'notInFile' in entry,
        ...(list === undefined ? {} : { list }),
      })
    }
  }
  for (const [verdict, statuses] of Object.entries(when.verdict ?? {})) {
    conditions.push({
      kind: 'verdict',
      verdict: verdict as VerdictName,
      statuses: new Set<VerdictStatus>(toArray(statuses)),
    })
  }
  if (when.dmarcPolicy !== undefined) {
    conditions.push({ kind: 'dmarcPolicy', policies: new Set<DmarcPolicy>(toArray(when.dmarcPolicy)) })
  }
  if (when.size !== undefined) conditions.push({ kind: 'size', overBytes: parseSize(when.size.over) })
  if (when.attachment !== undefined) {
    const { filename, contentType } = when.attachment
    conditions.push({
      kind: 'attachment',
      ...(filename === undefined ? {} : { filename: filename.map(compileGlob) }),
      ...(contentType === undefined ? {} : { contentType: contentType.map(compileGlob) }),
    })
  }
  if (when.header !== undefined) {
    const { name, exists, equals, contains, matches } = when.header
    const test =
      exists !== undefined
        ? ({ kind: 'exists', expected: exists } as const)
        : equals !== undefined
          ? ({ kind: 'equals', value: equals } as const)
          : contains !== undefined
            ? ({ kind: 'contains', value: contains } as const)
            : ({
                kind: 'matches',
                pattern: new DeferredPattern(ruleName, `${path}.header.matches`, matches ?? ''),
              } as const)
    conditions.push({ kind: 'header', name: name.toLowerCase(), test })
  }
  return conditions.sort((a, b) => COST_ORDER[conditionCost(a)] - COST_ORDER[conditionCost(b)])
}

function compileAction(entry: RuleEntry): RuleAction {
  if (entry.bounce !== undefined) return { kind: 'bounce', bounce: bounceSpec(entry.bounce) }
  return entry.drop ? { kind: 'drop' } : { kind: 'accept' }
}

function addressSet(
  entry: AddressConditionEntry,
  path: string,
  loadList: (file: string, path: string) => AddressSet | undefined,
  problems: ConfigProblem[],
): AddressSet | undefined {
  if (entry.inFile !== undefined) return loadList(entry.inFile, `${path}.inFile`)
  if (entry.notInFile !== undefined) return loadList(entry.notInFile, `${path}.notInFile`)
  const key = entry.in !== undefined ? 'in' : 'notIn'
  const set = new AddressSet()
  ;(entry.in ?? entry.notIn ?? []).forEach((pattern, index) => {
    addPattern(set, pattern, `${path}.${key}[${index}]`, problems)
  })
  return set
}

const MAX_LIST_PROBLEMS = 20

/** One pattern a line; blank lines and `#` comments are skipped. */
function readPatternFile(
  file: string,
  path: string,
  readList: ListReader,
  problems: ConfigProblem[],
): AddressSet | undefined {
  let text: string
  try {
    text = readList(file)
  } catch (error) {
    problems.push({ path, message: `cannot read pattern file ${file}: ${(error as Error).message}` })
    return undefined
  }
  const set = new AddressSet()
  let reported = 0
  let lineNumber = 0
  for (const line of text.split('\n')) {
    lineNumber += 1
    const pattern = line.trim()
    if (pattern === '' || pattern.startsWith('#')) continue
    if (
      !addPattern(
        set,
        pattern,
        `${path} (${file} line ${lineNumber})`,
        reported < MAX_LIST_PROBLEMS ? problems : [],
      )
    ) {
      reported += 1
    }
  }
  if (reported > MAX_LIST_PROBLEMS) {
    problems.push({ path, message: `${reported - MAX_LIST_PROBLEMS} more invalid patterns in ${file}` })
  }
  return set
}

function addPattern(set: AddressSet, pattern: string, path: string, problems: ConfigProblem[]): boolean {
  try {
    set.add(pattern)
    return true
  } catch (error) {
    if (!(error instanceof PatternError)) throw error
    problems.push({ path, message: error.message })
    return false
  }
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 * 1024 }

export function parseSize(size: number | string): number {
  if (typeof size === 'number') return size
  const [, digits = '0', unit = ''] = SIZE_PATTERN.exec(size) ?? []
  return Number(digits) * (SIZE_UNITS[unit.toLowerCase()] ?? 1)
}

function toArray<T>(value: T | readonly T[]): T[] {
  return Array.isArray(value) ? [...value] : [value as T]
}

/** Every pattern file the rules name (`inFile`, `notInFile`), to fetch before compiling. */
export function patternFilesOf(entries: readonly RuleEntry[]): string[] {
  const files = new Set<string>()
  for (const entry of entries) {
    for (const field of ['recipient', 'sender', 'from'] as const) {
      const condition = entry.when?.[field]
      const file = condition?.inFile ?? condition?.notInFile
      if (file !== undefined) files.add(file)
    }
  }
  return [...files]
}
