import type { SendBounceRequest } from '../domain/bounce-request.js'
import { BouncerError } from '../domain/errors.js'
import type { MessageContent } from '../domain/message.js'

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
