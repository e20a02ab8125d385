import type { Logger } from '@aws-lambda-powertools/logger'
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import type { InboundOutcome } from '../app/process-inbound.js'
import { recipientProblem } from '../domain/address.js'
import { summarizeDecision } from '../domain/decision.js'
import type { AddressRedactor } from './log-addresses.js'

/** One line per message: who was decided how and why, and what became of the bounce. Never bodies. */
export function logOutcome(logger: Logger, outcome: InboundOutcome, durationMs: number): void {
  const { message, bounce } = outcome
  const unusable = message.recipients.flatMap((recipient) => {
    const problem = recipientProblem(recipient)
    return problem === undefined ? [] : [{ recipient, problem }]
  })
  const line = {
    messageId: message.messageId,
    sender: message.envelopeSender,
    invocationType: message.invocationType,
    disposition: outcome.disposition,
    dryRun: outcome.dryRun,
    ...(outcome.dryRun ? { wouldReturn: outcome.decidedDisposition } : {}),
    factsRead: outcome.factsRead,
    ...(outcome.cutOff === undefined ? {} : { cutOff: outcome.cutOff }),
    recipients: outcome.decisions.map(summarizeDecision),
    ...(unusable.length === 0 ? {} : { recipientsNeverBounced: unusable }),
    bounce: describeBounce(outcome),
    durationMs: Math.round(durationMs),
  }
  if (outcome.unreadable !== undefined) {
    logger.error('message not decided, delivering it unbounced', { ...line, error: outcome.unreadable })
  } else if (bounce.kind === 'failed') {
    logger.error('bounce not sent, delivering the message', { ...line, error: bounce.error })
  } else if (outcome.cutOff !== undefined) {
    // a limit stopped the parse: rules decided on what was read, onUnreadable on what they could not
    logger.warn('message decided on what was read before a parsing limit', line)
  } else if (bounce.kind === 'expired') {
    logger.warn('bounce not sent: SendBounce accepts only messages received in the last 24 hours', line)
  } else if (unusable.length > 0) {
    // SES sends bare envelope addresses only: this event was made by hand, or SES changed.
    logger.warn('message decided; recipients SES would never send were not bounced', line)
  } else {
    logger.info('message decided', line)
  }
}

function describeBounce(outcome: InboundOutcome) {
  const { bounce } = outcome
  switch (bounce.kind) {
    case 'sent':
      return { outcome: 'sent', bounceMessageId: bounce.bounceMessageId }
    case 'queued':
      return { outcome: 'queued', queueMessageId: bounce.queueMessageId }
    case 'duplicate':
      return { outcome: 'duplicate', bounceMessageId: bounce.bounceMessageId ?? null }
    case 'dry-run':
      return { outcome: 'dry-run', wouldSend: bounce.request }
    case 'rate-limited':
      return { outcome: 'rate-limited', guard: bounce.guard, bouncesThisHour: bounce.bouncesThisHour }
    case 'failed':
      return { outcome: 'failed', request: bounce.request }
    case 'expired':
      return { outcome: 'expired', receivedAt: outcome.message.receivedAt.toISOString() }
    default:
      return { outcome: bounce.kind }
  }
}

const METRIC_FOR_ACTION = { accept: 'Accepted', bounce: 'Bounced', drop: 'Dropped' } as const

/**
 * Recipients per rule and action, guard drops per guard, and the fate of each bounce. A rule's
 * name is the operator's choice and may hold an address: it is redacted like a log line.
 */
export function recordOutcomeMetrics(
  metrics: Metrics,
  outcome: InboundOutcome,
  redactor: Pick<AddressRedactor, 'text'> = { text: (value) => value },
): void {
  const perRule = new Map<string, { rule: string; metric: string; count: number }>()
  const perGuard = new Map<string, number>()
  for (const decision of outcome.decisions) {
    const rule = decision.rule ?? '(no rule)'
    const metric = METRIC_FOR_ACTION[decision.action]
    const key = `${rule}\u0000${metric}`
    const entry = perRule.get(key) ?? { rule, metric, count: 0 }
    entry.count += 1
    perRule.set(key, entry)
    if (decision.action === 'drop' && decision.guard !== undefined) {
      perGuard.set(decision.guard, (perGuard.get(decision.guard) ?? 0) + 1)
    }
  }
  for (const { rule, metric, count } of perRule.values()) {
    const single = metrics.singleMetric()
    single.addDimension('Rule', redactor.text(rule))
    single.addMetric(metric, MetricUnit.Count, count)
  }
  for (const [guard, count] of perGuard) {
    const single = metrics.singleMetric()
    single.addDimension('Guard', guard)
    single.addMetric('GuardedDrops', MetricUnit.Count, count)
  }
  metrics.addMetric('Messages', MetricUnit.Count, 1)
  if (outcome.unreadable !== undefined) metrics.addMetric('MessagesUnreadable', MetricUnit.Count, 1)
  // decided on the part a parsing limit let through; onUnreadable decisions count per rule
  if (outcome.cutOff !== undefined) metrics.addMetric('MessagesCutOff', MetricUnit.Count, 1)
  if (outcome.bounce.kind === 'sent') metrics.addMetric('BouncesSent', MetricUnit.Count, 1)
  if (outcome.bounce.kind === 'queued') metrics.addMetric('BouncesQueued', MetricUnit.Count, 1)
  if (outcome.bounce.kind === 'expired') metrics.addMetric('BouncesExpired', MetricUnit.Count, 1)
  if (outcome.bounce.kind === 'failed') metrics.addMetric('BouncesFailed', MetricUnit.Count, 1)
  if (outcome.bounce.kind === 'duplicate') metrics.addMetric('DuplicateEvents', MetricUnit.Count, 1)
}
