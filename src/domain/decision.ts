import type { BounceSpec } from './bounce-spec.js'
import type { Evidence } from './rules.js'

export type Disposition = 'STOP_RULE_SET' | 'CONTINUE'
export type RecipientAction = 'accept' | 'bounce' | 'drop'
export type GuardName =
  | 'nullSender'
  | 'autoSubmitted'
  | 'spam'
  | 'virus'
  | 'forgedSender'
  | 'unverifiedSender'
  | 'rate'
  | 'domainRate'

export type RecipientDecision = AcceptDecision | BounceDecision | DropDecision

interface Explained {
  /** Why the rule matched, one entry per condition; only when decide() was asked to explain. */
  readonly evidence?: readonly Evidence[]
}

export interface AcceptDecision extends Explained {
  readonly recipient: string
  readonly action: 'accept'
  /** The rule that decided; none when no rule matched. */
  readonly rule?: string
}

export interface BounceDecision extends Explained {
  readonly recipient: string
  readonly action: 'bounce'
  readonly rule: string
  readonly bounce: BounceSpec
}

export interface DropDecision extends Explained {
  readonly recipient: string
  readonly action: 'drop'
  readonly rule: string
  /** The bounce the rule asked for, when a safety guard turned it into this drop. */
  readonly bounce?: BounceSpec
  readonly guard?: GuardName
}

export function isBounce(decision: RecipientDecision): decision is BounceDecision {
  return decision.action === 'bounce'
}

/** Stop the rule set only when nobody is left to deliver to (AWS: receiving-email-action-lambda). */
export function dispositionFor(decisions: readonly RecipientDecision[]): Disposition {
  return decisions.some((decision) => decision.action === 'accept') ? 'CONTINUE' : 'STOP_RULE_SET'
}

export function guardAsDrop(decision: BounceDecision, guard: GuardName): DropDecision {
  return { ...decision, action: 'drop', guard }
}

export interface DecisionSummary {
  readonly recipient: string
  readonly action: RecipientAction
  readonly rule: string | null
  /** The status of the bounce sent, or of the one a guard held back. */
  readonly status: string | null
  readonly guard: GuardName | null
}

/** A decision as the log line and the command line show it. */
export function summarizeDecision(decision: RecipientDecision): DecisionSummary {
  return {
    recipient: decision.recipient,
    action: decision.action,
    rule: decision.rule ?? null,
    status: decision.action === 'accept' ? null : (decision.bounce?.status ?? null),
    guard: decision.action === 'drop' ? (decision.guard ?? null) : null,
  }
}
