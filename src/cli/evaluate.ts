import { type InboundOutcome, makeProcessInbound } from '../app/process-inbound.js'
import { diagnosticFor } from '../domain/bounce-spec.js'
import { type RecipientDecision, summarizeDecision } from '../domain/decision.js'
import type { MessageContent, ReceivedMessage } from '../domain/message.js'
import type { RuleSet } from '../domain/rule-set.js'
import type { MessageSource } from '../ports/index.js'
import type { ListLines, ReportedEvidence } from './explain.js'

/**
 * Decides a message with the handler's own use case, in dry run: the same rules, guards and
 * request building, with the already-parsed message standing in for the store, and the evidence
 * for each decision attached. Nothing is sent.
 */
export async function evaluateMessage(
  ruleSet: RuleSet,
  message: ReceivedMessage,
  content: MessageContent,
): Promise<InboundOutcome> {
  const parsed: MessageSource = {
    size: async () => content.sizeBytes,
    read: async () => content,
  }
  const processInbound = makeProcessInbound({
    ruleSet: { ...ruleSet, mode: 'dry-run' },
    messageSource: parsed,
    bounceSender: {
      send: () => Promise.reject(new Error('ses-bouncer never sends from the command line')),
    },
    now: () => new Date(),
    explain: true,
  })
  return processInbound(message, new AbortController().signal)
}

export interface RecipientReport {
  readonly recipient: string
  readonly decision: RecipientDecision['action']
  readonly rule: string | null
  readonly status: string | null
  readonly diagnostic: string | null
  readonly guard: string | null
  readonly evidence: readonly ReportedEvidence[]
}

export function reportRecipients(outcome: InboundOutcome, lists: ListLines): RecipientReport[] {
  return outcome.decisions.map((decision) => {
    const { recipient, action, rule, status, guard } = summarizeDecision(decision)
    const bounce = decision.action === 'accept' ? undefined : decision.bounce
    return {
      recipient,
      decision: action,
      rule,
      status,
      diagnostic: bounce === undefined ? null : diagnosticFor(bounce, recipient),
      guard,
      evidence: lists.evidenceOf(decision),
    }
  })
}

/** What the function returns with these rules: in dry run always CONTINUE, with what enforcement would return. */
export function returns(
  ruleSet: RuleSet,
  outcome: InboundOutcome,
): { disposition: string; wouldReturn?: string } {
  return ruleSet.mode === 'dry-run'
    ? { disposition: 'CONTINUE', wouldReturn: outcome.decidedDisposition }
    : { disposition: outcome.decidedDisposition }
}
