import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch'
import type { Logger } from '@aws-lambda-powertools/logger'
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'
import { MemorySlotStore } from '../adapters/memory-slot-store.js'
import { decodeQueuedBounce } from '../adapters/queued-bounce-message.js'
import { makeSendPace, paceTiming } from '../app/send-pace.js'
import { makeSendQueuedBounce, type QueuedBounceOutcome } from '../app/send-queued-bounce.js'
import { loadSenderConfig, type SenderConfig } from '../config/sender-config.js'
import type { QueuedBounce } from '../domain/queued-bounce.js'
import { TransientFailureError } from '../ports/index.js'
import {
  lazyDynamoClient,
  lazyDynamoLedger,
  lazyDynamoSlotStore,
  lazySesBounceSender,
  lazySqsDeadLetters,
} from './lazy-adapters.js'
import { DEADLINE_MARGIN_MS, type Env } from './service.js'
import { configuredOrRefuse, startTelemetry } from './start.js'

/**
 * The longest one SendBounce call may take before it is abandoned: the SES client's own bounds
 * (2 s to connect, 5 s for the response, one attempt; aws-clients.ts) fit inside it. The slot's
 * lease is this plus one interval (send-pace.ts).
 */
export const SEND_TIMEOUT_MS = 8_000

/** An item is started only with this much time left: the wait for a slot, the call, the bookkeeping. */
const ITEM_BUDGET_MS = SEND_TIMEOUT_MS + 4_000

export interface SenderRuntime {
  readonly config: SenderConfig
  readonly logger: Logger
  readonly metrics: Metrics
  handleBatch(event: SQSEvent, context: Context): Promise<SQSBatchResponse>
}

/** Thrown for an item the queue must deliver again: Powertools reports it as a batch-item failure. */
class RetryLaterError extends TransientFailureError {}

/** The composition root of handlers/send-bounces.ts, run once per cold start. */
export function createSenderRuntime(env: Env = process.env): SenderRuntime {
  const { problems, logger, metrics } = startTelemetry(env)
  const config = configuredOrRefuse(logger, () => loadSenderConfig(env, problems))
  for (const warning of config.warnings) logger.warn(warning)

  const { region, idempotencyTable: table } = config
  const dynamo = lazyDynamoClient(region)
  const ledger = table === undefined ? undefined : lazyDynamoLedger(region, table, dynamo)
  const pace = makeSendPace({
    store: table === undefined ? new MemorySlotStore() : lazyDynamoSlotStore(region, table, dynamo),
    timing: paceTiming(config.ratePerSecond, SEND_TIMEOUT_MS),
    onReleaseError: (error) =>
      logger.warn('could not free the SendBounce slot; it frees when its lease runs out', { error }),
  })
  const sendQueuedBounce = makeSendQueuedBounce({
    bounceSender: lazySesBounceSender(region, { maxAttempts: 1 }),
    pace,
    ...(ledger === undefined ? {} : { ledger }),
    dryRun: config.dryRun,
    now: () => new Date(),
  })
  const deadLetters =
    config.deadLetterQueueUrl === undefined
      ? undefined
      : lazySqsDeadLetters(region, config.deadLetterQueueUrl)
  const processor = new BatchProcessor(EventType.SQS)

  /** A body no version of the receipt function wrote (or a newer one): it can never be sent as it is. */
  async function unreadable(record: SQSRecord, problems: readonly string[], signal: AbortSignal) {
    metrics.addMetric('BounceMessagesUnreadable', MetricUnit.Count, 1)
    const line = { queueMessageId: record.messageId, receiveCount: receiveCount(record), problems }
    if (deadLetters === undefined) {
      logger.error('unreadable queue message; left for the redrive policy to move aside', line)
      throw new RetryLaterError('unreadable queue message')
    }
    try {
      await deadLetters.put(record.body, problems.join('; '), signal)
    } catch (error) {
      logger.error('unreadable queue message; moving it to the dead-letter queue failed, retried later', {
        ...line,
        error,
      })
      throw error
    }
    logger.error('unreadable queue message moved to the dead-letter queue', line)
  }

  async function sendOne(record: SQSRecord, context: Context, skipped: { count: number }) {
    const remaining = context.getRemainingTimeInMillis()
    if (remaining < ITEM_BUDGET_MS) {
      skipped.count += 1
      throw new RetryLaterError('not started: too close to the invocation deadline')
    }
    const signal = AbortSignal.timeout(remaining - DEADLINE_MARGIN_MS)
    const decoded = decodeQueuedBounce(record.body)
    if (!decoded.ok) return unreadable(record, decoded.problems, signal)
    const { bounce } = decoded
    const started = performance.now()
    const line = () => ({
      messageId: bounce.request.OriginalMessageId,
      queueMessageId: record.messageId,
      receiveCount: receiveCount(record),
      sender: bounce.envelopeSender,
      recipients: bounce.request.BouncedRecipientInfoList.map((recipient) => recipient.Recipient),
      receivedAt: bounce.receivedAt.toISOString(),
      queuedForSeconds: secondsSince(bounce.queuedAt),
      durationMs: Math.round(performance.now() - started),
    })
    let outcome: QueuedBounceOutcome
    try {
      outcome = await sendQueuedBounce(bounce, signal)
    } catch (error) {
      logger.error('bounce not sent; left on the queue for another delivery', { ...line(), error })
      throw error
    }
    report(outcome, bounce, line())
    if (outcome.kind === 'retry') throw new RetryLaterError(`left on the queue: ${outcome.reason}`)
  }

  function report(outcome: QueuedBounceOutcome, bounce: QueuedBounce, line: Record<string, unknown>) {
    const { level, message, detail, counted, error } = describeOutcome(outcome, bounce)
    for (const metric of counted) metrics.addMetric(metric, MetricUnit.Count, 1)
    if (outcome.kind === 'sent') {
      metrics.addMetric('BounceQueueDelaySeconds', MetricUnit.Seconds, secondsSince(bounce.queuedAt))
    }
    logger[level](message, {
      ...line,
      bounce: { outcome: outcome.kind, ...detail },
      ...(error === undefined ? {} : { error }),
    })
  }

  return {
    config,
    logger,
    metrics,
    async handleBatch(event, context) {
      ledger?.useLambdaContext(context)
      const skipped = { count: 0 }
      const response = await processPartialResponse(
        event,
        (record: SQSRecord) => sendOne(record, context, skipped),
        processor,
        // One item at a time: each waits for the account's slot anyway. A batch that fails whole
        // is reported item by item like any other, not thrown: the effect is the same and the
        // function's error alarm stays for real faults.
        { context, processInParallel: false, throwOnFullBatchFailure: false },
      )
      if (skipped.count > 0) {
        logger.warn('left bounces for the next delivery: too close to the invocation deadline', {
          skipped: skipped.count,
        })
      }
      return response
    },
  }
}

function receiveCount(record: SQSRecord): number {
  return Number(record.attributes?.ApproximateReceiveCount ?? 1)
}

function secondsSince(date: Date): number {
  return Math.max(Math.round((Date.now() - date.getTime()) / 100) / 10, 0)
}

/** Each outcome's log line (level, message, what the `bounce` field adds) and the metrics it counts. */
function describeOutcome(
  outcome: QueuedBounceOutcome,
  bounce: QueuedBounce,
): {
  level: 'info' | 'warn' | 'error'
  message: string
  detail: Record<string, unknown>
  counted: readonly string[]
  error?: unknown
} {
  switch (outcome.kind) {
    case 'sent':
      return {
        level: 'info',
        message: 'bounce sent',
        detail: { bounceMessageId: outcome.bounceMessageId },
        counted: ['BouncesSent'],
      }
    case 'duplicate':
      return {
        level: 'info',
        message: 'bounce settled by an earlier delivery; nothing sent',
        detail: { earlier: outcome.earlier, bounceMessageId: outcome.bounceMessageId ?? null },
        counted: ['DuplicateDeliveries'],
      }
    case 'rejected':
      return {
        level: 'error',
        message: 'bounce refused by SES for good; not retried',
        detail: { request: bounce.request },
        counted: ['BouncesRejected'],
        error: outcome.reason,
      }
    case 'expired':
      return {
        level: 'warn',
        message: 'bounce not sent: SendBounce accepts only messages received in the last 24 hours',
        detail: {},
        counted: ['BouncesExpired'],
      }
    case 'dry-run':
      return {
        level: 'info',
        message: 'bounce not sent: dry run',
        detail: { wouldSend: bounce.request },
        counted: [],
      }
    case 'retry':
      return {
        level: 'warn',
        message: 'bounce not sent yet; left on the queue for another delivery',
        detail: { reason: outcome.reason },
        counted: outcome.reason === 'throttled' ? ['BouncesRetried', 'BouncesThrottled'] : ['BouncesRetried'],
        ...(outcome.error === undefined ? {} : { error: outcome.error }),
      }
  }
}
