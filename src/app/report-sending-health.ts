import { BouncerError } from '../domain/errors.js'
import {
  alertKey,
  alertMail,
  type CrossedThreshold,
  claimExpiry,
  crossedThresholds,
  digestKey,
  digestModel,
  type SendingSummary,
  summarize,
  type ThresholdName,
  type Thresholds,
  utcDay,
} from '../domain/sending-health.js'
import {
  type AlertState,
  AlertStateUnavailableError,
  NotificationFailedError,
  type Notifier,
  type SendingStats,
  SendingStatsUnavailableError,
} from '../ports/sending-health.js'

export interface Recipients {
  readonly notifier: Notifier
  readonly to: readonly string[]
}

export interface ReportSendingHealthDeps {
  readonly stats: SendingStats
  readonly alertState: AlertState
  readonly thresholds: Thresholds
  /** SES quotas and statistics are per Region; the mails name it. */
  readonly region: string
  /** Absent: a crossed threshold is only logged. */
  readonly alerts?: Recipients
  /** Absent: no daily digest. */
  readonly digest?: Recipients
  readonly now: () => Date
}

export type AlertOutcome =
  /** No threshold crossed. */
  | { readonly kind: 'none' }
  /** Crossed, but no alert recipients are configured. */
  | { readonly kind: 'off' }
  /** Every crossed threshold had its alert earlier today. */
  | { readonly kind: 'already-sent'; readonly alreadySent: readonly ThresholdName[] }
  | {
      readonly kind: 'sent'
      readonly thresholds: readonly ThresholdName[]
      readonly alreadySent: readonly ThresholdName[]
      readonly messageId: string
    }
  | {
      readonly kind: 'failed'
      readonly thresholds: readonly ThresholdName[]
      readonly alreadySent: readonly ThresholdName[]
      readonly error: BouncerError
    }

export type DigestOutcome =
  | { readonly kind: 'off' }
  | { readonly kind: 'already-sent'; readonly day: string }
  | { readonly kind: 'sent'; readonly day: string; readonly messageId: string }
  | { readonly kind: 'failed'; readonly day: string; readonly error: BouncerError }

export interface SendingHealthReport {
  readonly summary: SendingSummary
  readonly crossed: readonly CrossedThreshold[]
  readonly alert: AlertOutcome
  readonly digest: DigestOutcome
}

export type ReportSendingHealth = (signal: AbortSignal) => Promise<SendingHealthReport>

/**
 * The use case: read quota and statistics, summarize, alert once per threshold per UTC day, and
 * send the digest once per UTC day. Throws a SendingStatsUnavailableError when the figures cannot
 * be read; a failed alert or digest is an outcome, so the figures are still logged before the
 * caller fails the run. The alert and the digest are tried independently of each other.
 */
export function makeReportSendingHealth(deps: ReportSendingHealthDeps): ReportSendingHealth {
  return async function reportSendingHealth(signal) {
    const now = deps.now()
    const [quota, points] = await Promise.all([
      deps.stats.quota(signal),
      deps.stats.dataPoints(signal),
    ]).catch((error: unknown) => {
      throw error instanceof SendingStatsUnavailableError
        ? error
        : new SendingStatsUnavailableError(`reading the sending statistics: ${messageOf(error)}`, {
            cause: error,
          })
    })
    const summary = summarize(quota, points, now)
    const crossed = crossedThresholds(summary, deps.thresholds)
    const alert = await sendAlert(deps, summary, crossed, signal)
    const digest = await sendDigest(deps, summary, signal)
    return { summary, crossed, alert, digest }
  }
}

async function sendAlert(
  deps: ReportSendingHealthDeps,
  summary: SendingSummary,
  crossed: readonly CrossedThreshold[],
  signal: AbortSignal,
): Promise<AlertOutcome> {
  if (crossed.length === 0) return { kind: 'none' }
  if (deps.alerts === undefined) return { kind: 'off' }
  const { notifier, to } = deps.alerts
  const expiresAt = claimExpiry(summary.at)

  const claimed: CrossedThreshold[] = []
  const alreadyAlerted: CrossedThreshold[] = []
  try {
    for (const entry of crossed) {
      const isNew = await deps.alertState.claim(alertKey(entry.threshold, summary.at), expiresAt)
      ;(isNew ? claimed : alreadyAlerted).push(entry)
    }
  } catch (error) {
    const released = await releaseAll(
      deps.alertState,
      claimed.map((entry) => alertKey(entry.threshold, summary.at)),
    )
    return {
      kind: 'failed',
      thresholds: crossed.map((entry) => entry.threshold),
      alreadySent: [],
      error: new AlertStateUnavailableError(`claiming today's alert: ${messageOf(error)}${released}`, {
        cause: error,
      }),
    }
  }
  const alreadySent = alreadyAlerted.map((entry) => entry.threshold)
  if (claimed.length === 0) return { kind: 'already-sent', alreadySent }

  const thresholds = claimed.map((entry) => entry.threshold)
  try {
    const mail = alertMail(claimed, alreadyAlerted, summary, deps.region)
    const messageId = await notifier.sendAlert(to, mail, signal)
    return { kind: 'sent', thresholds, alreadySent, messageId }
  } catch (error) {
    const released = await releaseAll(
      deps.alertState,
      thresholds.map((threshold) => alertKey(threshold, summary.at)),
    )
    return { kind: 'failed', thresholds, alreadySent, error: asNotificationError('alert', error, released) }
  }
}

async function sendDigest(
  deps: ReportSendingHealthDeps,
  summary: SendingSummary,
  signal: AbortSignal,
): Promise<DigestOutcome> {
  if (deps.digest === undefined) return { kind: 'off' }
  const day = utcDay(summary.at)
  const key = digestKey(summary.at)
  let isNew: boolean
  try {
    isNew = await deps.alertState.claim(key, claimExpiry(summary.at))
  } catch (error) {
    return {
      kind: 'failed',
      day,
      error: new AlertStateUnavailableError(`claiming today's digest: ${messageOf(error)}`, { cause: error }),
    }
  }
  if (!isNew) return { kind: 'already-sent', day }
  try {
    const digest = digestModel(summary, deps.thresholds, deps.region)
    const messageId = await deps.digest.notifier.sendDigest(deps.digest.to, digest, signal)
    return { kind: 'sent', day, messageId }
  } catch (error) {
    const released = await releaseAll(deps.alertState, [key])
    return { kind: 'failed', day, error: asNotificationError('digest', error, released) }
  }
}

/** Releases every key; resolves with a note on what could not be released (those mails are lost for today). */
async function releaseAll(state: AlertState, keys: readonly string[]): Promise<string> {
  const results = await Promise.allSettled(keys.map((key) => state.release(key)))
  const failed = results.flatMap((result, index) =>
    result.status === 'rejected' ? [`${keys[index]} (${messageOf(result.reason)})`] : [],
  )
  return failed.length === 0 ? '' : `; could not release ${failed.join(', ')}, so no retry today`
}

function asNotificationError(what: string, error: unknown, released: string): BouncerError {
  if (error instanceof BouncerError && released === '') return error
  return new NotificationFailedError(`sending the ${what}: ${messageOf(error)}${released}`, { cause: error })
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
