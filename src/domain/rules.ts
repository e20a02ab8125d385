import type { AddressSet } from './address-set.js'
import type { BounceSpec } from './bounce-spec.js'
import type { Glob } from './glob.js'
import {
  type DmarcPolicy,
  fromAddresses,
  headersCutOff,
  headerValues,
  type MessageContent,
  type MessageFacts,
  type VerdictName,
  type VerdictStatus,
} from './message.js'

export type AddressField = 'recipient' | 'sender' | 'from'

export type HeaderTest =
  | { readonly kind: 'exists'; readonly expected: boolean }
  | { readonly kind: 'equals'; readonly value: string }
  | { readonly kind: 'contains'; readonly value: string }
  | { readonly kind: 'matches'; readonly pattern: TextPattern }

/**
 * A compiled `matches` expression. It runs in time linear in the text, at most `cost` steps a
 * character (an RE2 program's size: the automaton it simulates has no more states than that).
 */
export interface TextPattern {
  readonly source: string
  readonly cost: number
  test(text: string): boolean
}

/**
 * A `matches` pattern as the rules file gives it, compiled once the pattern engine is loaded (it
 * is loaded only for rules files that use `matches`): `bind` before the first test.
 */
export class DeferredPattern implements TextPattern {
  private compiled: TextPattern | undefined

  constructor(
    /** The rule that holds it and where, for a problem report. */
    readonly rule: string,
    readonly path: string,
    /** `/pattern/flags` or a bare pattern, as written. */
    readonly source: string,
  ) {}

  get bound(): boolean {
    return this.compiled !== undefined
  }

  get cost(): number {
    return this.pattern().cost
  }

  bind(compiled: TextPattern): void {
    this.compiled = compiled
  }

  test(text: string): boolean {
    return this.pattern().test(text)
  }

  private pattern(): TextPattern {
    if (this.compiled === undefined) throw new Error(`${this.path}: the pattern was never compiled`)
    return this.compiled
  }
}

export type Condition =
  | {
      readonly kind: 'address'
      readonly field: AddressField
      readonly set: AddressSet
      /** `notIn` / `notInFile`: holds when no address is in the set. */
      readonly negate: boolean
      /** The pattern file the set was read from (`inFile`, `notInFile`), as the rules name it. */
      readonly list?: string
    }
  | { readonly kind: 'verdict'; readonly verdict: VerdictName; readonly statuses: ReadonlySet<VerdictStatus> }
  | { readonly kind: 'dmarcPolicy'; readonly policies: ReadonlySet<DmarcPolicy> }
  | { readonly kind: 'size'; readonly overBytes: number }
  | {
      readonly kind: 'attachment'
      readonly filename?: readonly Glob[]
      readonly contentType?: readonly Glob[]
    }
  | { readonly kind: 'header'; readonly name: string; readonly test: HeaderTest }

export type RuleAction =
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'bounce'; readonly bounce: BounceSpec }

export interface Rule {
  readonly name: string
  /** Ordered cheapest first, so a rule that fails on event facts never asks for the message. */
  readonly conditions: readonly Condition[]
  readonly action: RuleAction
}

/** What evaluating a condition needs beyond the event: nothing, the message size, or its MIME. */
export type FactLevel = 'event' | 'size' | 'content'

export const HEADER_MATCH_LIMIT = 8 * 1024

/**
 * The work one `matches` condition may do on one message: pattern cost times characters tested.
 * At the largest cost a pattern may have (MAX_PATTERN_COST) that is one whole 8 KB value; a
 * small pattern tests far more (`^mass` about 700,000 characters). Measured with the slowest
 * patterns found (`(?i)\p{L}{500}!` on 8 KB of letters), it is about 150 ms on one core.
 */
export const MATCH_BUDGET = 4 * 1024 * 1024
export const MAX_PATTERN_COST = MATCH_BUDGET / HEADER_MATCH_LIMIT

/**
 * A limit kept the facts that would settle it: part of the message was cut off (or a `matches`
 * condition ran out of budget) and what was seen neither makes it hold nor rules it out.
 */
export const UNSETTLED = { unsettled: true } as const

export function isUnsettled(value: unknown): value is typeof UNSETTLED {
  return typeof value === 'object' && value !== null && 'unsettled' in value
}

/**
 * A condition holds, fails, cannot be told without facts not fetched yet, or cannot be told within
 * the limits at all.
 */
export type Truth = boolean | { readonly needs: Exclude<FactLevel, 'event'> } | typeof UNSETTLED

export function conditionCost(condition: Condition): FactLevel {
  switch (condition.kind) {
    case 'size':
      return 'size'
    case 'attachment':
      return 'content'
    default:
      return 'event'
  }
}

export function evaluateCondition(condition: Condition, recipient: string, facts: MessageFacts): Truth {
  switch (condition.kind) {
    case 'address':
      return evaluateAddress(condition, recipient, facts)
    case 'verdict':
      return condition.statuses.has(facts.message.verdicts[condition.verdict])
    case 'dmarcPolicy':
      return facts.message.dmarcPolicy !== undefined && condition.policies.has(facts.message.dmarcPolicy)
    case 'size': {
      const size = facts.content?.sizeBytes ?? facts.sizeBytes
      return size === undefined ? { needs: 'size' } : size > condition.overBytes
    }
    case 'attachment': {
      if (facts.content === undefined) return { needs: 'content' }
      const seen = facts.content.attachments.some(
        (attachment) =>
          (condition.filename === undefined ||
            (attachment.filename !== undefined && anyGlob(condition.filename, attachment.filename))) &&
          (condition.contentType === undefined || anyGlob(condition.contentType, attachment.contentType)),
      )
      // an attachment seen before the cut matches whatever follows it
      return seen || facts.content.cutOff?.attachments !== true ? seen : UNSETTLED
    }
    case 'header': {
      const values = headerValues(facts, condition.name)
      if (values === undefined) return { needs: 'content' }
      const truth = testHeader(condition.test, values)
      if (isUnsettled(truth) || !headersCutOff(facts)) return truth
      // every test but `exists: false` holds on any one value, and unseen values cannot undo that
      const settled = condition.test.kind === 'exists' && !condition.test.expected ? !truth : truth
      return settled ? truth : UNSETTLED
    }
  }
}

function evaluateAddress(
  condition: Extract<Condition, { kind: 'address' }>,
  recipient: string,
  facts: MessageFacts,
): Truth {
  const addresses = addressesFor(condition.field, recipient, facts)
  if (addresses === undefined) return { needs: 'content' }
  const found = addresses.some((address) => condition.set.has(address))
  if (!found && condition.field === 'from' && facts.content?.cutOff?.from === true) return UNSETTLED
  return condition.negate ? !found : found
}

function anyGlob(globs: readonly Glob[], text: string): boolean {
  return globs.some((glob) => glob.test(text))
}

function testHeader(test: HeaderTest, values: readonly string[]): boolean | typeof UNSETTLED {
  switch (test.kind) {
    case 'exists':
      return values.length > 0 === test.expected
    case 'equals': {
      const wanted = test.value.trim().toLowerCase()
      return values.some((value) => value.trim().toLowerCase() === wanted)
    }
    case 'contains': {
      const wanted = test.value.toLowerCase()
      return values.some((value) => value.toLowerCase().includes(wanted))
    }
    case 'matches':
      return testPattern(test.pattern, values)
  }
}

/** Each value's first 8 KB, in order, while the budget lasts; what it cannot test is unsettled. */
function testPattern(pattern: TextPattern, values: readonly string[]): boolean | typeof UNSETTLED {
  let characters = Math.floor(MATCH_BUDGET / Math.max(pattern.cost, 1))
  for (const value of values) {
    const text = value.length > HEADER_MATCH_LIMIT ? value.slice(0, HEADER_MATCH_LIMIT) : value
    if (text.length > characters) return UNSETTLED
    characters -= text.length
    if (pattern.test(text)) return true
  }
  return false
}

/**
 * Every condition must hold; one that fails decides at once, even if another needs more facts.
 * Missing facts come before an unsettled condition: once fetched, they may rule the rule out.
 * With an `evidence` list, each condition that holds adds why; without one nothing extra is done.
 */
export function evaluateRule(
  rule: Rule,
  recipient: string,
  facts: MessageFacts,
  evidence?: Evidence[],
): Truth {
  let pending: Truth = true
  for (const condition of rule.conditions) {
    const truth = evaluateCondition(condition, recipient, facts)
    if (truth === false) return false
    if (truth === true) {
      if (evidence !== undefined) evidence.push(conditionEvidence(condition, recipient, facts))
      continue
    }
    if (pending === truth) continue
    if (isUnsettled(truth)) {
      if (pending === true) pending = truth
    } else if (pending === true || isUnsettled(pending) || moreFacts(truth.needs, pending.needs)) {
      pending = truth
    }
  }
  return pending
}

/** Why a condition held, in the facts' own terms: the value, and the entry or pattern it met. */
export type Evidence =
  | {
      readonly kind: 'address'
      readonly field: AddressField
      /** The address that is in the set; with `negate`, every address that is not. */
      readonly addresses: readonly string[]
      readonly negate: boolean
      /** The set's entry that held the address (`*@domain`); absent with `negate`. */
      readonly entry?: string
      readonly list?: string
    }
  | { readonly kind: 'verdict'; readonly verdict: VerdictName; readonly status: VerdictStatus }
  | { readonly kind: 'dmarcPolicy'; readonly policy: DmarcPolicy }
  | { readonly kind: 'size'; readonly sizeBytes: number; readonly overBytes: number }
  | {
      readonly kind: 'attachment'
      /** As decoded from RFC 2231 or RFC 2047 forms: what the glob saw. */
      readonly filename?: string
      readonly contentType: string
      readonly filenameGlob?: string
      readonly contentTypeGlob?: string
    }
  | {
      readonly kind: 'header'
      readonly name: string
      readonly test: HeaderTest['kind']
      /** The value that met the test (the part `matches` could see); absent when `exists: false` held. */
      readonly value?: string
      /** Where in `value` the test matched, `[start, end)`. */
      readonly span?: readonly [number, number]
    }

/** Called only for a condition that holds, and only when someone asked why. */
function conditionEvidence(condition: Condition, recipient: string, facts: MessageFacts): Evidence {
  switch (condition.kind) {
    case 'address': {
      const addresses = addressesFor(condition.field, recipient, facts) ?? []
      const list = condition.list === undefined ? {} : { list: condition.list }
      if (condition.negate)
        return { kind: 'address', field: condition.field, addresses, negate: true, ...list }
      for (const address of addresses) {
        const entry = condition.set.match(address)
        if (entry !== undefined) {
          return {
            kind: 'address',
            field: condition.field,
            addresses: [address],
            negate: false,
            entry,
            ...list,
          }
        }
      }
      return { kind: 'address', field: condition.field, addresses, negate: false, ...list }
    }
    case 'verdict':
      return {
        kind: 'verdict',
        verdict: condition.verdict,
        status: facts.message.verdicts[condition.verdict],
      }
    case 'dmarcPolicy':
      return { kind: 'dmarcPolicy', policy: facts.message.dmarcPolicy ?? 'none' }
    case 'size':
      return {
        kind: 'size',
        sizeBytes: facts.content?.sizeBytes ?? facts.sizeBytes ?? 0,
        overBytes: condition.overBytes,
      }
    case 'attachment':
      return attachmentEvidence(condition, facts.content?.attachments ?? [])
    case 'header':
      return headerEvidence(condition.name, condition.test, headerValues(facts, condition.name) ?? [])
  }
}

/** The addresses an address condition tests; `undefined` when the From needs the stored message. */
function addressesFor(
  field: 'recipient' | 'sender' | 'from',
  recipient: string,
  facts: MessageFacts,
): readonly string[] | undefined {
  if (field === 'recipient') return [recipient]
  if (field === 'sender') return [facts.message.envelopeSender]
  return fromAddresses(facts)
}

function attachmentEvidence(
  condition: Extract<Condition, { kind: 'attachment' }>,
  attachments: MessageContent['attachments'],
): Evidence {
  for (const attachment of attachments) {
    const filenameGlob =
      condition.filename === undefined || attachment.filename === undefined
        ? undefined
        : condition.filename.find((glob) => glob.test(attachment.filename ?? ''))
    const contentTypeGlob = condition.contentType?.find((glob) => glob.test(attachment.contentType))
    if (condition.filename !== undefined && filenameGlob === undefined) continue
    if (condition.contentType !== undefined && contentTypeGlob === undefined) continue
    return {
      kind: 'attachment',
      ...(attachment.filename === undefined ? {} : { filename: attachment.filename }),
      contentType: attachment.contentType,
      ...(filenameGlob === undefined ? {} : { filenameGlob: filenameGlob.source }),
      ...(contentTypeGlob === undefined ? {} : { contentTypeGlob: contentTypeGlob.source }),
    }
  }
  return { kind: 'attachment', contentType: '' }
}

function headerEvidence(name: string, test: HeaderTest, values: readonly string[]): Evidence {
  const found = (value: string, span?: readonly [number, number]): Evidence => ({
    kind: 'header',
    name,
    test: test.kind,
    value,
    ...(span === undefined ? {} : { span }),
  })
  for (const value of values) {
    switch (test.kind) {
      case 'exists':
        if (test.expected) return found(value)
        break
      case 'equals':
        if (value.trim().toLowerCase() === test.value.trim().toLowerCase()) return found(value)
        break
      case 'contains': {
        const lower = value.toLowerCase()
        const at = lower.indexOf(test.value.toLowerCase())
        // Lower-casing a few characters (İ) changes the length: then the offsets would not fit.
        if (at !== -1)
          return found(value, lower.length === value.length ? [at, at + test.value.length] : undefined)
        break
      }
      case 'matches': {
        // The pattern engine answers whether, not where: the value the pattern saw is the evidence.
        const seen = value.slice(0, HEADER_MATCH_LIMIT)
        if (test.pattern.test(seen)) return found(seen)
        break
      }
    }
  }
  return { kind: 'header', name, test: test.kind }
}

export function moreFacts(a: Exclude<FactLevel, 'event'>, b: Exclude<FactLevel, 'event'>): boolean {
  return a === 'content' && b === 'size'
}
