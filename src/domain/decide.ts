import { parseMailbox } from './address.js'
import { guardAsDrop, isBounce, type RecipientDecision } from './decision.js'
import type { MessageFacts } from './message.js'
import { evaluateRule, type FactLevel, moreFacts, type Rule } from './rules.js'
import { type SafetySettings, safetyGuard } from './safety.js'

export type MissingFacts = Exclude<FactLevel, 'event'>

export type DecideOutcome =
  | { readonly kind: 'decided'; readonly decisions: readonly RecipientDecision[] }
  | { readonly kind: 'needs'; readonly facts: MissingFacts }

/**
 * Per recipient of the envelope, the first matching rule decides; no match accepts. Then the
 * safety guard turns bounces that would be backscatter into drops. When the facts at hand cannot
 * settle a rule or a guard, asks for the facts it needs instead of guessing.
 */
export function decide(rules: readonly Rule[], safety: SafetySettings, facts: MessageFacts): DecideOutcome {
  const decisions: RecipientDecision[] = []
  let missing: MissingFacts | undefined
  for (const recipient of uniqueRecipients(facts.message.recipients)) {
    const decision = decideRecipient(rules, recipient, facts)
    if ('needs' in decision) missing = mostFacts(missing, decision.needs)
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

function decideRecipient(
  rules: readonly Rule[],
  recipient: string,
  facts: MessageFacts,
): RecipientDecision | { needs: MissingFacts } {
  const bounceable = canBounce(recipient)
  for (const rule of rules) {
    if (rule.action.kind === 'bounce' && !bounceable) continue
    const truth = evaluateRule(rule, recipient, facts)
    if (truth === false) continue
    if (truth !== true) return truth
    const { action } = rule
    if (action.kind === 'bounce')
      return { recipient, action: 'bounce', rule: rule.name, bounce: action.bounce }
    return { recipient, action: action.kind, rule: rule.name }
  }
  return { recipient, action: 'accept' }
}

/**
 * Bounce rules pass over postmaster, which every mail domain MUST accept (RFC 5321 §4.5.1, bare
 * `<Postmaster>` included), and over an address SES gave without a domain: SendBounce would
 * reject it and, with it, the other recipients' bounces in the same request.
 */
function canBounce(recipient: string): boolean {
  const mailbox = parseMailbox(recipient)
  return mailbox !== undefined && mailbox.local !== 'postmaster'
}

function uniqueRecipients(recipients: readonly string[]): string[] {
  return [...new Set(recipients)]
}

function mostFacts(current: MissingFacts | undefined, next: MissingFacts): MissingFacts {
  return current === undefined || moreFacts(next, current) ? next : current
}
