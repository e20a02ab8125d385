import { BouncerError } from '../domain/errors.js'
import type { AlertMail, Digest, SendDataPoint, SendQuota } from '../domain/sending-health.js'

/** The account's sending limits and statistics for the Region (SES GetSendQuota, GetSendStatistics). */
export interface SendingStats {
  quota(signal: AbortSignal): Promise<SendQuota>
  /** The 15-minute points of the last two weeks, in whatever order SES returns them. */
  dataPoints(signal: AbortSignal): Promise<SendDataPoint[]>
}

/** Mail to the operators. Each resolves with the sent message's SES message id. */
export interface Notifier {
  sendAlert(to: readonly string[], mail: AlertMail, signal: AbortSignal): Promise<string>
  sendDigest(to: readonly string[], digest: Digest, signal: AbortSignal): Promise<string>
}

/**
 * Which once-a-day mails went out, shared by every run (DynamoDB in AWS). A run claims a key
 * before it sends, so of two concurrent runs only one sends; it gives the claim back when the
 * send fails, so the next run tries again.
 */
export interface AlertState {
  /** Claims `key` until `expiresAt`; false when another run claimed it first. */
  claim(key: string, expiresAt: Date): Promise<boolean>
  /** Gives back a claim whose mail could not be sent. */
  release(key: string): Promise<void>
}

/** GetSendQuota or GetSendStatistics failed (after the SDK's retries), or answered nonsense. */
export class SendingStatsUnavailableError extends BouncerError {}

/** An alert or digest could not be sent (SendEmail / SendRawEmail failed after retries). */
export class NotificationFailedError extends BouncerError {}

/** The once-a-day state could not be read or written. */
export class AlertStateUnavailableError extends BouncerError {}
