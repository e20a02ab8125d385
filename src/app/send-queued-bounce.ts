import type { BouncerError } from '../domain/errors.js'
import type { QueuedBounce } from '../domain/queued-bounce.js'
import {
  type BounceLedger,
  BounceRejectedError,
  type BounceSender,
  BounceThrottledError,
  type SendPace,
  TransientFailureError,
} from '../ports/index.js'
import { pastBounceWindow } from './process-inbound.js'

export interface SendQueuedBounceDeps {
  readonly bounceSender: BounceSender
  readonly pace: SendPace
  /** Absent: a redelivered message can be sent twice (a warning at cold start says so). */
  readonly ledger?: BounceLedger
  /** Observe only: never call SendBounce, claim nothing, take no slot. */
  readonly dryRun: boolean
  readonly now: () => Date
}

/** What became of one queued bounce; `retry` leaves it on the queue for a later delivery. */
export type QueuedBounceOutcome =
  | { readonly kind: 'sent'; readonly bounceMessageId: string }
  /** An earlier delivery of this bounce settled it already (SQS delivers at least once). */
  | { readonly kind: 'duplicate'; readonly earlier: Settled['kind']; readonly bounceMessageId?: string }
  /** SES refused it for good (MessageRejected and other client faults): not retried. */
  | { readonly kind: 'rejected'; readonly reason: string }
  /** Its turn came more than 24 hours after SES received the message: SendBounce would refuse it. */
  | { readonly kind: 'expired' }
  | { readonly kind: 'dry-run' }
  | {
      readonly kind: 'retry'
      /** throttled: SES said so; in-progress: another instance holds this bounce's claim. */
      readonly reason: 'throttled' | 'transient' | 'in-progress'
      readonly error?: BouncerError
    }

/** The outcomes kept in the ledger under the bounce's claim: final, whichever delivery comes next. */
type Settled =
  | { readonly kind: 'sent'; readonly bounceMessageId: string }
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'expired' }

/**
 * The sender's use case: one queued bounce, sent at most once, in the account's turn. Claimed in
 * the ledger under the SES message id (`bounce-sent#<id>`), so neither a redelivered message nor
 * a bounce queued twice reaches SendBounce a second time; a transient failure releases the claim
 * so that the queue's next delivery can send it.
 */
export function makeSendQueuedBounce(deps: SendQueuedBounceDeps) {
  const { ledger, pace, bounceSender } = deps

  async function settle(bounce: QueuedBounce, signal: AbortSignal): Promise<Settled> {
    if (pastBounceWindow(bounce.receivedAt, deps.now())) return { kind: 'expired' }
    const hold = await pace.acquire(signal)
    let release: 'sent' | 'throttled' = 'sent'
    try {
      const budget = Math.max(Math.ceil(hold.sendBy - deps.now().getTime()), 1)
      const sendSignal = AbortSignal.any([signal, AbortSignal.timeout(budget)])
      return { kind: 'sent', bounceMessageId: await bounceSender.send(bounce.request, sendSignal) }
    } catch (error) {
      if (error instanceof BounceThrottledError) release = 'throttled'
      if (error instanceof BounceRejectedError) return { kind: 'rejected', reason: error.message }
      throw error
    } finally {
      await hold.release(release)
    }
  }

  return async function sendQueuedBounce(
    bounce: QueuedBounce,
    signal: AbortSignal,
  ): Promise<QueuedBounceOutcome> {
    if (deps.dryRun) return { kind: 'dry-run' }
    try {
      if (ledger === undefined) return await settle(bounce, signal)
      const result = await ledger.once(`bounce-sent#${bounce.request.OriginalMessageId}`, () =>
        settle(bounce, signal),
      )
      if (result.kind === 'in-progress') return { kind: 'retry', reason: 'in-progress' }
      if (!result.replayed) return result.value
      const earlier = result.value
      return {
        kind: 'duplicate',
        earlier: earlier.kind,
        ...(earlier.kind === 'sent' ? { bounceMessageId: earlier.bounceMessageId } : {}),
      }
    } catch (error) {
      if (error instanceof BounceThrottledError) return { kind: 'retry', reason: 'throttled', error }
      if (error instanceof TransientFailureError) return { kind: 'retry', reason: 'transient', error }
      throw error
    }
  }
}

export type SendQueuedBounce = ReturnType<typeof makeSendQueuedBounce>
