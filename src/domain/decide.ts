import { parseMailbox, recipientProblem } from './address.js'
import { guardAsDrop, isBounce, type RecipientDecision } from './decision.js'
import type { MessageFacts } from './message.js'
import {
  type Evidence,
  evaluateRule,
  type FactLevel,
  isUnsettled,
  moreFacts,
  type Rule,
  type RuleAction,
  UNSETTLED,
} from './rules.js'
import { type SafetySettings, safetyGuard } from './safety.js'

/**
 * The name decisions made by the `onUnreadable` setting carry in logs and metrics: the rules
 * could not settle the recipient because a limit cut part of the message off. No rule may take it.
 */
export const ON_UNREADABLE = 'onUnreadable'

/** Deliver what the rules could not settle: the default, as before limits decided anything. */
export const CONTINUE_UNREADABLE: RuleAction = { kind: 'accept' }

export type MissingFacts = Exclude<FactLevel, 'event'>

export type DecideOutcome =
  | { readonly kind: 'decided'; readonly decisions: readonly RecipientDecision[] }
  | { readonly kind: 'needs'; readonly facts: MissingFacts }

/**
 * Per recipient of the envelope, the first matching rule decides; no match accepts. Then the
 * safety guard turns bounces that would be backscatter into drops. When the facts at hand cannot
 * settle a rule or a guard, asks for the facts it needs instead of guessing. When a limit cut the
 * facts that would settle a recipient's rules, `onUnreadable` (the operator's choice) decides it.
 * With `explain`, each decision by a rule carries the evidence for it (`ses-bouncer check`); the
 * function never asks.
 */
export function decide(
  rules: readonly Rule[],
  safety: SafetySettings,
  facts: MessageFacts,
  onUnreadable: RuleAction = CONTINUE_UNREADABLE,
  explain = false,
): DecideOutcome {
  const decisions: RecipientDecision[] = []
  let missing: MissingFacts | undefined
  for (const recipient of uniqueRecipients(facts.message.recipients)) {
    const decision = decideRecipient(rules, recipient, facts, explain)
    if (isUnsettled(decision)) decisions.push(unreadableDecision(onUnreadable, recipient))
    else if ('needs' in decision) missing = mostFacts(missing, decision.needs)
    else decisions.push(decision)
  }
  if (missing !== undefined) return { kind: 'needs', facts: missing }
  if (!decisions.some(isBounce)) return { kind: 'decided', decisions }

  const guard = safetyGuard(safety, facts)
  if (guard === undefined) return { kind: 'decided', decisions }
  if (typeof guard === 'object') return { kind: 'needs', facts: guard.needs }
  return {
    kind: 'decided',
    decisions: decisions.map((decision) => (isBounce(decision) ? guardAsDrop(decision, guard) : decision)),
  }
}

/**
 * The first rule that holds decides, as long as every rule before it fails. A rule a limit left
 * unsettled might have held first; the rule that holds after it still decides when it acts alike
 * (an `.exe` seen bounces, whether or not an earlier bounce rule would have matched what was cut),
 * otherwise the recipient is unsettled. Never is an unsettled rule taken to fail.
 */
function decideRecipient(
  rules: readonly Rule[],
  recipient: string,
  facts: MessageFacts,
  explain: boolean,
): RecipientDecision | { needs: MissingFacts } | typeof UNSETTLED {
  const bounceable = canBounce(recipient)
  const unsettled = new Set<RuleAction['kind']>()
  for (const rule of rules) {
    if (rule.action.kind === 'bounce' && !bounceable) continue
    const evidence: Evidence[] | undefined = explain ? [] : undefined
    const truth = evaluateRule(rule, recipient, facts, evidence)
    if (truth === false) continue
    if (isUnsettled(truth)) {
      unsettled.add(rule.action.kind)
      continue
    }
    if (truth !== true) return truth
    const { action } = rule
    if (unsettled.size > 0 && !(unsettled.size === 1 && unsettled.has(action.kind))) return UNSETTLED
    const why = evidence === undefined ? {} : { evidence }
    if (action.kind === 'bounce')
      return { recipient, action: 'bounce', rule: rule.name, bounce: action.bounce, ...why }
    return { recipient, action: action.kind, rule: rule.name, ...why }
  }
  return unsettled.size > 0 ? UNSETTLED : { recipient, action: 'accept' }
}

/** The operator's `onUnreadable`; a recipient that cannot be bounced (postmaster) is delivered. */
function unreadableDecision(action: RuleAction, recipient: string): RecipientDecision {
  if (action.kind === 'bounce' && canBounce(recipient))
    return { recipient, action: 'bounce', rule: ON_UNREADABLE, bounce: action.bounce }
  if (action.kind === 'drop') return { recipient, action: 'drop', rule: ON_UNREADABLE }
  return { recipient, action: 'accept', rule: ON_UNREADABLE }
}

/**
 * Bounce rules pass over postmaster, which every mail domain MUST accept (RFC 5321 §4.5.1), and
 * over a recipient SES would never send (no domain, a display name, angle brackets: see
 * recipientProblem): SendBounce would reject it and, with it, the other recipients' bounces in
 * the same request.
 */
function canBounce(recipient: string): boolean {
  if (recipientProblem(recipient) !== undefined) return false
  return parseMailbox(recipient)?.local !== 'postmaster'
}

function uniqueRecipients(recipients: readonly string[]): string[] {
  return [...new Set(recipients)]
}

function mostFacts(current: MissingFacts | undefined, next: MissingFacts): MissingFacts {
  return current === undefined || moreFacts(next, current) ? next : current
}
