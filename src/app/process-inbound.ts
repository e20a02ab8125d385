import { senderKeys } from '../domain/address.js'
import { buildBounceRequest, type SendBounceRequest } from '../domain/bounce-request.js'
import { decide } from '../domain/decide.js'
import {
  type Disposition,
  dispositionFor,
  type GuardName,
  guardAsDrop,
  isBounce,
  type RecipientDecision,
} from '../domain/decision.js'
import type { BouncerError } from '../domain/errors.js'
import type { CutOff, MessageFacts, ReceivedMessage } from '../domain/message.js'
import type { RuleSet } from '../domain/rule-set.js'
import type { FactLevel } from '../domain/rules.js'
import {
  type BounceLedger,
  type BounceQueue,
  BounceRejectedError,
  type BounceSender,
  type MessageSource,
  MessageUnavailableError,
  TransientFailureError,
} from '../ports/index.js'

/** SendBounce works only on mail received in the last 24 hours (API reference: SendBounce). */
export const BOUNCE_WINDOW_MS = 24 * 60 * 60 * 1000

/** Whether SendBounce would refuse a bounce for mail received at `receivedAt` (its 24-hour window). */
export function pastBounceWindow(receivedAt: Date, now: Date): boolean {
  return now.getTime() - receivedAt.getTime() > BOUNCE_WINDOW_MS
}

export interface ProcessInboundDeps {
  readonly ruleSet: RuleSet
  readonly messageSource?: MessageSource
  readonly bounceSender: BounceSender
  /** Absent: exactly-once and per-sender limits are off (a warning at cold start says so). */
  readonly ledger?: BounceLedger
  /** Set (BOUNCE_QUEUE_URL): bounces are queued for the paced sender instead of sent inline. */
  readonly bounceQueue?: BounceQueue
  readonly now: () => Date
  /** Attach the evidence for each decision (the command line's `check`); off in the function. */
  readonly explain?: boolean
}

export type BounceOutcome =
  | { readonly kind: 'none' }
  | { readonly kind: 'sent'; readonly request: SendBounceRequest; readonly bounceMessageId: string }
  /** On the bounce queue: the sender function sends it in the account's turn. Committed, like `sent`. */
  | { readonly kind: 'queued'; readonly request: SendBounceRequest; readonly queueMessageId: string }
  /** An earlier invocation for this message sent it already. */
  | { readonly kind: 'duplicate'; readonly bounceMessageId?: string }
  /** A concurrent invocation for this message holds the claim and sends it (or retries). */
  | { readonly kind: 'in-progress' }
  /** `guard`: which hourly limit was passed, the sender mailbox's (`rate`) or its domain's (`domainRate`). */
  | { readonly kind: 'rate-limited'; readonly guard: RateGuard; readonly bouncesThisHour: number }
  | { readonly kind: 'dry-run'; readonly request: SendBounceRequest }
  | { readonly kind: 'expired'; readonly request: SendBounceRequest }
  | { readonly kind: 'failed'; readonly request: SendBounceRequest; readonly error: BouncerError }

export interface InboundOutcome {
  readonly message: ReceivedMessage
  readonly decisions: readonly RecipientDecision[]
  readonly disposition: Disposition
  /** What the decisions alone call for; in dry run, the disposition enforcement would return. */
  readonly decidedDisposition: Disposition
  readonly bounce: BounceOutcome
  /** How far the facts had to go: the event alone, the stored size, or the parsed message. */
  readonly factsRead: FactLevel
  readonly dryRun: boolean
  /** Set when the message could not be read: nothing was bounced and the mail flow continues. */
  readonly unreadable?: MessageUnavailableError
  /**
   * Set when a parsing limit cut the message off: the rules were decided on what was read, and a
   * recipient they could not settle by `onUnreadable` (its decisions name rule `onUnreadable`).
   */
  readonly cutOff?: CutOff
}

type RateGuard = Extract<GuardName, 'rate' | 'domainRate'>

type SendResult =
  | { kind: 'sent'; bounceMessageId: string }
  | { kind: 'queued'; queueMessageId: string }
  | { kind: 'rate-limited'; guard: RateGuard; bouncesThisHour: number }

/**
 * The use case: decide every envelope recipient, guard against backscatter, and send at most one
 * bounce for the message. Fails open: whatever cannot be read or sent leaves the mail flowing.
 * Throws only a TransientFailureError on an `Event` invocation, so Lambda's retry takes over.
 */
export function makeProcessInbound(deps: ProcessInboundDeps) {
  const { ruleSet } = deps
  const dryRun = ruleSet.mode === 'dry-run'

  return async function processInbound(
    message: ReceivedMessage,
    signal: AbortSignal,
  ): Promise<InboundOutcome> {
    let facts: MessageFacts = { message }
    let factsRead: FactLevel = 'event'
    let outcome = decide(ruleSet.rules, ruleSet.safety, facts, ruleSet.onUnreadable, deps.explain)
    while (outcome.kind === 'needs') {
      const needed = outcome.facts
      try {
        facts = await fetchFacts(facts, needed, signal)
      } catch (error) {
        if (error instanceof TransientFailureError && message.invocationType === 'Event') throw error
        if (!(error instanceof MessageUnavailableError || error instanceof TransientFailureError)) throw error
        const unreadable =
          error instanceof MessageUnavailableError
            ? error
            : new MessageUnavailableError(error.message, { cause: error })
        return {
          message,
          decisions: [],
          disposition: 'CONTINUE',
          decidedDisposition: 'CONTINUE',
          bounce: { kind: 'none' },
          factsRead,
          dryRun,
          unreadable,
        }
      }
      factsRead = needed
      outcome = decide(ruleSet.rules, ruleSet.safety, facts, ruleSet.onUnreadable, deps.explain)
    }

    const decisions = outcome.decisions
    const request = buildBounceRequest(message, decisions, ruleSet.bounce)
    const finish = (bounce: BounceOutcome, finalDecisions = decisions): InboundOutcome => ({
      message,
      decisions: finalDecisions,
      disposition: dryRun || !bounceSettled(bounce) ? 'CONTINUE' : dispositionFor(finalDecisions),
      decidedDisposition: dispositionFor(finalDecisions),
      bounce,
      factsRead,
      dryRun,
      ...(facts.content?.cutOff === undefined ? {} : { cutOff: facts.content.cutOff }),
    })

    if (request === undefined) return finish({ kind: 'none' })
    if (dryRun) return finish({ kind: 'dry-run', request })
    if (pastBounceWindow(message.receivedAt, deps.now())) {
      return finish({ kind: 'expired', request })
    }

    try {
      const result = await sendOnce(message, request, signal)
      if (result.kind === 'rate-limited') {
        return finish(
          result,
          decisions.map((decision) => (isBounce(decision) ? guardAsDrop(decision, result.guard) : decision)),
        )
      }
      return finish(result.kind === 'sent' || result.kind === 'queued' ? { ...result, request } : result)
    } catch (error) {
      if (error instanceof TransientFailureError && message.invocationType === 'Event') throw error
      if (error instanceof BounceRejectedError || error instanceof TransientFailureError) {
        return finish({ kind: 'failed', request, error })
      }
      throw error
    }
  }

  async function fetchFacts(
    facts: MessageFacts,
    needed: 'size' | 'content',
    signal: AbortSignal,
  ): Promise<MessageFacts> {
    const source = deps.messageSource
    if (source === undefined)
      throw new MessageUnavailableError('no message store is configured (MAIL_BUCKET or MAIL_DIR)')
    const { messageId } = facts.message
    if (needed === 'size') return { ...facts, sizeBytes: await source.size(messageId, signal) }
    const content = await source.read(messageId, signal)
    return { ...facts, sizeBytes: content.sizeBytes, content }
  }

  async function sendOnce(
    message: ReceivedMessage,
    request: SendBounceRequest,
    signal: AbortSignal,
  ): Promise<SendResult | { kind: 'duplicate'; bounceMessageId?: string } | { kind: 'in-progress' }> {
    const { ledger } = deps
    if (ledger === undefined) return dispatch(message, request, signal)
    const { maxBouncesPerSender, maxBouncesPerSenderDomain } = ruleSet.safety
    const result = await ledger.once<SendResult>(`bounce#${message.messageId}`, async () => {
      // Both counts, whatever either says: each is an hour's attempts at that target.
      const keys = senderKeys(message.envelopeSender)
      const [toSender, toDomain] = await Promise.all([
        ledger.countBounceTo(keys.mailbox, deps.now()),
        ledger.countBounceToDomain(keys.domain, deps.now()),
      ])
      if (toSender > maxBouncesPerSender)
        return { kind: 'rate-limited', guard: 'rate', bouncesThisHour: toSender }
      if (toDomain > maxBouncesPerSenderDomain)
        return { kind: 'rate-limited', guard: 'domainRate', bouncesThisHour: toDomain }
      return dispatch(message, request, signal)
    })
    if (result.kind === 'in-progress') return result
    const value = result.value
    // A claim written before the domain limit existed holds no guard: it was the mailbox's.
    if (value.kind === 'rate-limited') return { ...value, guard: value.guard ?? 'rate' }
    if (!result.replayed) return value
    return value.kind === 'sent'
      ? { kind: 'duplicate', bounceMessageId: value.bounceMessageId }
      : { kind: 'duplicate' }
  }

  /** The bounce leaves: onto the queue when there is one, else straight to SES. */
  async function dispatch(
    message: ReceivedMessage,
    request: SendBounceRequest,
    signal: AbortSignal,
  ): Promise<Extract<SendResult, { kind: 'sent' | 'queued' }>> {
    const { bounceQueue, bounceSender } = deps
    if (bounceQueue === undefined)
      return { kind: 'sent', bounceMessageId: await bounceSender.send(request, signal) }
    const queuedAt = deps.now()
    const bounce = {
      request,
      receivedAt: message.receivedAt,
      queuedAt,
      envelopeSender: message.envelopeSender,
    }
    return { kind: 'queued', queueMessageId: await bounceQueue.enqueue(bounce, signal) }
  }
}

/** A bounce that was meant but not sent leaves the mail flowing: CONTINUE, never a silent loss. */
function bounceSettled(bounce: BounceOutcome): boolean {
  return bounce.kind !== 'failed' && bounce.kind !== 'expired'
}

export type ProcessInbound = ReturnType<typeof makeProcessInbound>
