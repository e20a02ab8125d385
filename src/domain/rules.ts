import type { AddressSet } from './address-set.js'
import type { BounceSpec } from './bounce-spec.js'
import type { Glob } from './glob.js'
import {
  type DmarcPolicy,
  fromAddresses,
  headerValues,
  type MessageFacts,
  type VerdictName,
  type VerdictStatus,
} from './message.js'

export type AddressField = 'recipient' | 'sender' | 'from'

export type HeaderTest =
  | { readonly kind: 'exists'; readonly expected: boolean }
  | { readonly kind: 'equals'; readonly value: string }
  | { readonly kind: 'contains'; readonly value: string }
  | { readonly kind: 'matches'; readonly regex: RegExp }

export type Condition =
  | {
      readonly kind: 'address'
      readonly field: AddressField
      readonly set: AddressSet
      /** `notIn` / `notInFile`: holds when no address is in the set. */
      readonly negate: boolean
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

/** A condition holds, fails, or cannot be told without facts not fetched yet. */
export type Truth = boolean | { readonly needs: Exclude<FactLevel, 'event'> }

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
      return facts.content.attachments.some(
        (attachment) =>
          (condition.filename === undefined ||
            (attachment.filename !== undefined && anyGlob(condition.filename, attachment.filename))) &&
          (condition.contentType === undefined || anyGlob(condition.contentType, attachment.contentType)),
      )
    }
    case 'header': {
      const values = headerValues(facts, condition.name)
      return values === undefined ? { needs: 'content' } : testHeader(condition.test, values)
    }
  }
}

function evaluateAddress(
  condition: Extract<Condition, { kind: 'address' }>,
  recipient: string,
  facts: MessageFacts,
): Truth {
  let addresses: readonly string[] | undefined
  if (condition.field === 'recipient') addresses = [recipient]
  else if (condition.field === 'sender') addresses = [facts.message.envelopeSender]
  else addresses = fromAddresses(facts)
  if (addresses === undefined) return { needs: 'content' }
  const found = addresses.some((address) => condition.set.has(address))
  return condition.negate ? !found : found
}

function anyGlob(globs: readonly Glob[], text: string): boolean {
  return globs.some((glob) => glob.test(text))
}

function testHeader(test: HeaderTest, values: readonly string[]): boolean {
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
      return values.some((value) => test.regex.test(value.slice(0, HEADER_MATCH_LIMIT)))
  }
}

/** Every condition must hold; one that fails decides at once, even if another needs more facts. */
export function evaluateRule(rule: Rule, recipient: string, facts: MessageFacts): Truth {
  let pending: Truth = true
  for (const condition of rule.conditions) {
    const truth = evaluateCondition(condition, recipient, facts)
    if (truth === false) return false
    if (truth !== true && (pending === true || moreFacts(truth.needs, pending.needs))) pending = truth
  }
  return pending
}

export function moreFacts(a: Exclude<FactLevel, 'event'>, b: Exclude<FactLevel, 'event'>): boolean {
  return a === 'content' && b === 'size'
}
