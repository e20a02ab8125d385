import type { Logger } from '@aws-lambda-powertools/logger'
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import type { AlertOutcome, DigestOutcome, SendingHealthReport } from '../app/report-sending-health.js'
import type { QuotaConfig } from '../config/quota-config.js'
import type { CrossedThreshold, SendingSummary, SendingTotals } from '../domain/sending-health.js'

/** Every figure of a run, rounded for reading; what the handler returns and the log line carries. */
export interface SendingHealthResult {
  readonly at: string
  readonly quota: Pick<
    SendingSummary,
    'max24HourSend' | 'unlimited' | 'maxSendRate' | 'sentLast24Hours' | 'quotaUsedPercent'
  >
  readonly last24Hours: SendingTotals
  readonly last14Days: SendingTotals
  readonly dataPoints: number
  readonly firstPointAt: string | null
  readonly lastPointAt: string | null
  readonly crossed: readonly CrossedThreshold[]
  readonly alert: Record<string, unknown>
  readonly digest: Record<string, unknown>
}

export function sendingHealthResult(report: SendingHealthReport): SendingHealthResult {
  const { summary } = report
  return {
    at: summary.at.toISOString(),
    quota: {
      max24HourSend: summary.max24HourSend,
      unlimited: summary.unlimited,
      maxSendRate: summary.maxSendRate,
      sentLast24Hours: summary.sentLast24Hours,
      quotaUsedPercent: round(summary.quotaUsedPercent),
    },
    last24Hours: roundTotals(summary.last24Hours),
    last14Days: roundTotals(summary.last14Days),
    dataPoints: summary.points.length,
    firstPointAt: summary.points[0]?.timestamp.toISOString() ?? null,
    lastPointAt: summary.points[summary.points.length - 1]?.timestamp.toISOString() ?? null,
    crossed: report.crossed.map((entry) => ({ ...entry, value: round(entry.value) ?? entry.value })),
    alert: describeAlert(report.alert),
    digest: describeDigest(report.digest),
  }
}

/**
 * One line per run with every figure: INFO when all is well, WARN when a threshold is crossed,
 * ERROR when an alert or the digest could not be sent (the run then fails and is retried).
 */
export function logSendingHealth(
  logger: Logger,
  report: SendingHealthReport,
  config: QuotaConfig,
  durationMs: number,
): void {
  const line = {
    region: config.region,
    ...sendingHealthResult(report),
    thresholds: config.thresholds,
    durationMs: Math.round(durationMs),
  }
  const failed = [report.alert, report.digest].flatMap((outcome) =>
    outcome.kind === 'failed' ? [outcome.error] : [],
  )
  if (failed.length > 0) {
    logger.error('SES sending health reported, but a notification failed', {
      ...line,
      error: failed.length === 1 ? failed[0] : failed,
    })
  } else if (report.crossed.length > 0) {
    const names = report.crossed.map((entry) => entry.threshold).join(', ')
    logger.warn(`SES sending health: alert threshold crossed (${names})`, line)
  } else {
    logger.info('SES sending health', line)
  }
}

/**
 * The account's headroom as CloudWatch metrics (EMF). A figure that does not exist is left out
 * rather than sent as 0: no rate without delivery attempts, no quota figures when it is unlimited.
 * Rates are the 14-day ones the alerts use.
 */
export function recordSendingHealthMetrics(metrics: Metrics, report: SendingHealthReport): void {
  const { summary } = report
  addIfKnown(metrics, 'QuotaUsedPercent', MetricUnit.Percent, summary.quotaUsedPercent)
  metrics.addMetric('SentLast24Hours', MetricUnit.Count, summary.sentLast24Hours)
  addIfKnown(metrics, 'Max24HourSend', MetricUnit.Count, summary.unlimited ? null : summary.max24HourSend)
  metrics.addMetric('MaxSendRate', MetricUnit.CountPerSecond, summary.maxSendRate)
  addIfKnown(metrics, 'BounceRate', MetricUnit.Percent, summary.last14Days.bounceRatePercent)
  addIfKnown(metrics, 'ComplaintRate', MetricUnit.Percent, summary.last14Days.complaintRatePercent)
}

function addIfKnown(
  metrics: Metrics,
  name: string,
  unit: (typeof MetricUnit)[keyof typeof MetricUnit],
  value: number | null,
): void {
  if (value !== null) metrics.addMetric(name, unit, round(value) ?? value)
}

function describeAlert(alert: AlertOutcome): Record<string, unknown> {
  switch (alert.kind) {
    case 'sent':
      return {
        outcome: 'sent',
        thresholds: alert.thresholds,
        alreadySentToday: alert.alreadySent,
        messageId: alert.messageId,
      }
    case 'failed':
      return { outcome: 'failed', thresholds: alert.thresholds, alreadySentToday: alert.alreadySent }
    case 'already-sent':
      return { outcome: 'already-sent', alreadySentToday: alert.alreadySent }
    default:
      return { outcome: alert.kind }
  }
}

function describeDigest(digest: DigestOutcome): Record<string, unknown> {
  switch (digest.kind) {
    case 'sent':
      return { outcome: 'sent', day: digest.day, messageId: digest.messageId }
    case 'failed':
    case 'already-sent':
      return { outcome: digest.kind, day: digest.day }
    default:
      return { outcome: digest.kind }
  }
}

function roundTotals(totals: SendingTotals): SendingTotals {
  return {
    ...totals,
    bounceRatePercent: round(totals.bounceRatePercent),
    complaintRatePercent: round(totals.complaintRatePercent),
  }
}

/** Four decimals of a percent: enough for a 0.1% complaint threshold, short enough to read. */
function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 10_000) / 10_000
}
