import type { SendBounceRequest } from '../domain/bounce-request.js'
import { BouncerError } from '../domain/errors.js'
import type { MessageContent } from '../domain/message.js'
import type { QueuedBounce } from '../domain/queued-bounce.js'

/** Where the receipt rule's S3 action put the raw message. */
export interface MessageSource {
  /** The stored size in bytes, without reading the message. */
  size(messageId: string, signal: AbortSignal): Promise<number>
  /** Streams and parses the stored message; attachments are measured and dropped, never held. */
  read(messageId: string, signal: AbortSignal): Promise<MessageContent>
}

export interface BounceSender {
  /** Sends one bounce; resolves with the bounce's SES message id. */
  send(request: SendBounceRequest, signal: AbortSignal): Promise<string>
}

// ------------------------------------------------------------------ the bounce queue (issue 10)

/** Where the receipt function hands a decided bounce to the paced sender (SQS in AWS). */
export interface BounceQueue {
  /** Puts the bounce on the queue; resolves with the queue's message id. */
  enqueue(bounce: QueuedBounce, signal: AbortSignal): Promise<string>
}

/**
 * The account's SendBounce rate, shared by every sender instance (one item of the state table in
 * AWS): a send starts only in a slot it holds, and the next slot opens `interval` after the
 * holder's call has returned.
 */
export interface SendPace {
  /**
   * Takes the next slot and waits for its start; rejects with a TransientFailureError when
   * `signal` aborts first (a slot taken by then is given back unused).
   */
  acquire(signal: AbortSignal): Promise<PaceHold>
}

export interface PaceHold {
  /** Epoch ms by which the send must have returned or been abandoned: the slot's lease runs out one interval later. */
  readonly sendBy: number
  /**
   * Gives the slot back once the call has returned: the next may start one interval from now, or
   * after a longer back-off when SES answered that it was throttled.
   */
  release(outcome: 'sent' | 'throttled'): Promise<void>
}

/**
 * The one shared record of the account's next SendBounce slot (an item of the state table in
 * AWS; every write to it is conditional, so any number of instances agree on who holds it).
 */
export interface SendSlotStore {
  /**
   * Takes the slot for `holder`, to start at `startAt` and held until `leaseUntil`, if nobody holds
   * it at `now` and the next slot opens at `startAt` or before; else says when it opens and, while
   * someone holds it, until when.
   */
  claim(request: SlotRequest, signal: AbortSignal): Promise<SlotClaim>
  /** Frees the slot `holder` holds and opens the next at `nextAt`; a no-op if `holder` no longer holds it. */
  release(holder: string, nextAt: number): Promise<void>
}

export interface SlotRequest {
  readonly holder: string
  readonly now: number
  readonly startAt: number
  readonly leaseUntil: number
}

export type SlotClaim =
  | { readonly claimed: true }
  | { readonly claimed: false; readonly nextAt: number; readonly heldUntil?: number }

// ------------------------------------------------------------------

/** The outcome of work run through the ledger: done (now or by an earlier invocation) or held elsewhere. */
export type OnceResult<T> =
  | { readonly kind: 'done'; readonly value: T; readonly replayed: boolean }
  /** Another invocation holds the claim on this key right now. */
  | { readonly kind: 'in-progress' }

/** Exactly-once work and per-sender counts, shared by every invocation (DynamoDB in AWS). */
export interface BounceLedger {
  /**
   * Runs `work` at most once per key across every invocation: claims the key first, keeps the
   * JSON result for replays, and releases the claim when `work` throws so a retry can run it.
   */
  once<T>(key: string, work: () => Promise<T>): Promise<OnceResult<T>>
  /** Counts one more bounce to `sender` (a normalised mailbox) in the hour of `at`; resolves with the hour's count so far. */
  countBounceTo(sender: string, at: Date): Promise<number>
  /** The same per envelope sender domain (normalised, ASCII): many mailboxes, one victim. */
  countBounceToDomain(domain: string, at: Date): Promise<number>
}

/** The message could not be read (missing object, access denied, timeout, unparseable stream). */
export class MessageUnavailableError extends BouncerError {}

/** SES refused the bounce for good (MessageRejected): retrying cannot help. */
export class BounceRejectedError extends BouncerError {}

/** An AWS call kept failing transiently (throttling, 5xx, timeout) until the time budget ran out. */
export class TransientFailureError extends BouncerError {}

/** SES answered SendBounce with a throttling error: the account's rate was exceeded. */
export class BounceThrottledError extends TransientFailureError {}
