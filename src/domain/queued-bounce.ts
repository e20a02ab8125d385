import type { SendBounceRequest } from './bounce-request.js'

/**
 * A decided bounce on its way to the paced sender: the exact SendBounce request the receipt
 * function built, and what the sender needs to judge it when its turn comes.
 */
export interface QueuedBounce {
  readonly request: SendBounceRequest
  /** When SES received the message: SendBounce accepts it for 24 hours from then (API reference: SendBounce). */
  readonly receivedAt: Date
  readonly queuedAt: Date
  /** MAIL FROM, whom the bounce goes to: for the sender's log line. */
  readonly envelopeSender: string
}
