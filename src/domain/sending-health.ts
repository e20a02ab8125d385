/**
 * Sending health, pure: the account's quota and two weeks of statistics summarized, the alert
 * thresholds, the alert text, and the daily digest's model. No clock, no I/O: `now` comes in.
 */

const HOUR_MS = 60 * 60 * 1000
export const DAY_MS = 24 * HOUR_MS
/** GetSendStatistics covers the last two weeks (API reference: GetSendStatistics). */
export const STATISTICS_SPAN_DAYS = 14

/** GetSendQuota in domain words. */
export interface SendQuota {
  /** -1 (any negative) means unlimited (API reference: GetSendQuota). */
  readonly max24HourSend: number
  /** Messages per second. */
  readonly maxSendRate: number
  /** SES's own rolling count of messages sent (recipients, in fact) in the last 24 hours. */
  readonly sentLast24Hours: number
}

/** One 15-minute bucket of GetSendStatistics; `timestamp` is the bucket's start. */
export interface SendDataPoint {
  readonly timestamp: Date
  readonly deliveryAttempts: number
  /** Hard bounces (SES developer guide: monitor-sending-activity-api). */
  readonly bounces: number
  readonly complaints: number
  readonly rejects: number
}

export interface SendingTotals {
  readonly deliveryAttempts: number
  readonly bounces: number
  readonly complaints: number
  readonly rejects: number
  /** Bounces per delivery attempt, in percent; null when nothing was attempted. */
  readonly bounceRatePercent: number | null
  /** Complaints per delivery attempt, in percent; null when nothing was attempted. */
  readonly complaintRatePercent: number | null
}

export interface SendingSummary {
  readonly at: Date
  readonly max24HourSend: number
  readonly unlimited: boolean
  readonly maxSendRate: number
  readonly sentLast24Hours: number
  /** SentLast24Hours of Max24HourSend, in percent; null when the quota is unlimited. */
  readonly quotaUsedPercent: number | null
  /** Points in [at − 24 h, at]. */
  readonly last24Hours: SendingTotals
  /** Points in [at − 14 d, at]. */
  readonly last14Days: SendingTotals
  /** Every point SES returned, oldest first. */
  readonly points: readonly SendDataPoint[]
}

/**
 * The account's headroom at `now`. SES returns the points unsorted (see the GetSendStatistics
 * example in the SES API model), so they are sorted here; a point counts in a window when its
 * timestamp lies in [now − span, now], both ends included.
 */
export function summarize(quota: SendQuota, points: readonly SendDataPoint[], now: Date): SendingSummary {
  const sorted = [...points].sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime())
  const unlimited = quota.max24HourSend < 0
  return {
    at: now,
    max24HourSend: quota.max24HourSend,
    unlimited,
    maxSendRate: quota.maxSendRate,
    sentLast24Hours: quota.sentLast24Hours,
    quotaUsedPercent: unlimited ? null : quotaUsedPercent(quota),
    last24Hours: totalsBetween(sorted, now.getTime() - DAY_MS, now.getTime()),
    last14Days: totalsBetween(sorted, now.getTime() - STATISTICS_SPAN_DAYS * DAY_MS, now.getTime()),
    points: sorted,
  }
}

function quotaUsedPercent(quota: SendQuota): number {
  // A quota of 0 leaves no headroom at all: report it as used up rather than divide by zero.
  if (quota.max24HourSend === 0) return 100
  return (quota.sentLast24Hours / quota.max24HourSend) * 100
}

/** Sums the points whose timestamp is in [fromMs, toMs]. */
export function totalsBetween(points: readonly SendDataPoint[], fromMs: number, toMs: number): SendingTotals {
  let deliveryAttempts = 0
  let bounces = 0
  let complaints = 0
  let rejects = 0
  for (const point of points) {
    const at = point.timestamp.getTime()
    if (at < fromMs || at > toMs) continue
    deliveryAttempts += point.deliveryAttempts
    bounces += point.bounces
    complaints += point.complaints
    rejects += point.rejects
  }
  return totalsOf({ deliveryAttempts, bounces, complaints, rejects })
}

function totalsOf(counts: Omit<SendingTotals, 'bounceRatePercent' | 'complaintRatePercent'>): SendingTotals {
  const { deliveryAttempts } = counts
  return {
    ...counts,
    bounceRatePercent: deliveryAttempts > 0 ? (counts.bounces / deliveryAttempts) * 100 : null,
    complaintRatePercent: deliveryAttempts > 0 ? (counts.complaints / deliveryAttempts) * 100 : null,
  }
}

// ---------- thresholds ----------

export type ThresholdName = 'quota-used' | 'bounce-rate' | 'complaint-rate'
export const THRESHOLD_NAMES: readonly ThresholdName[] = ['quota-used', 'bounce-rate', 'complaint-rate']

/** Alert thresholds, each in percent. */
export interface Thresholds {
  readonly quotaUsedPercent: number
  readonly bounceRatePercent: number
  readonly complaintRatePercent: number
}

/**
 * SES's own levels (developer guide: faqs-enforcement): an account goes under review at a 5%
 * bounce or 0.1% complaint rate and may be paused at 10% or 0.5%. The defaults alert at the
 * review levels; quota at 80% leaves a fifth of the day's sends as warning time.
 */
export const DEFAULT_THRESHOLDS: Thresholds = {
  quotaUsedPercent: 80,
  bounceRatePercent: 5,
  complaintRatePercent: 0.1,
}

export const SES_LEVELS = {
  'bounce-rate': { review: 5, pause: 10 },
  'complaint-rate': { review: 0.1, pause: 0.5 },
} as const

export type HealthWindow = 'last24Hours' | 'last14Days'

export interface CrossedThreshold {
  readonly threshold: ThresholdName
  /** The figure, in percent. */
  readonly value: number
  /** The threshold it reached, in percent. */
  readonly limit: number
  /** Where the figure comes from: GetSendQuota's rolling 24 hours, or the statistics window. */
  readonly window: HealthWindow
}

/**
 * The thresholds the summary reaches (value ≥ limit). Rates are judged over the 14-day window:
 * SES judges them over a "representative volume", often longer than a day (faqs-enforcement),
 * and a day of little mail would otherwise alert on one or two bounces. No attempts, no rate,
 * no alert; an unlimited quota is never used up.
 */
export function crossedThresholds(summary: SendingSummary, thresholds: Thresholds): CrossedThreshold[] {
  const crossed: CrossedThreshold[] = []
  const check = (threshold: ThresholdName, value: number | null, limit: number, window: HealthWindow) => {
    if (value !== null && reaches(value, limit)) crossed.push({ threshold, value, limit, window })
  }
  check('quota-used', summary.quotaUsedPercent, thresholds.quotaUsedPercent, 'last24Hours')
  check('bounce-rate', summary.last14Days.bounceRatePercent, thresholds.bounceRatePercent, 'last14Days')
  check(
    'complaint-rate',
    summary.last14Days.complaintRatePercent,
    thresholds.complaintRatePercent,
    'last14Days',
  )
  return crossed
}

/** value ≥ limit, with room for binary fractions: 9 bounces in 1,000 compute as 0.8999999999999999%. */
function reaches(value: number, limit: number): boolean {
  return value >= limit - Math.abs(limit) * 1e-9
}

// ---------- once a day ----------

/** The UTC calendar day of `at`, `YYYY-MM-DD`. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10)
}

function startOfUtcDay(at: Date): number {
  return Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate())
}

const KEY_PREFIX = 'ses-bouncer#sending-health'

/** One alert per threshold per UTC day: the key a run claims before it sends. */
export function alertKey(threshold: ThresholdName, now: Date): string {
  return `${KEY_PREFIX}#alert#${threshold}#${utcDay(now)}`
}

/** One digest per UTC day. */
export function digestKey(now: Date): string {
  return `${KEY_PREFIX}#digest#${utcDay(now)}`
}

/** How long a claim must be kept: past the end of its UTC day, with a day to spare. */
export function claimExpiry(now: Date): Date {
  return new Date(startOfUtcDay(now) + 2 * DAY_MS)
}

// ---------- text ----------

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 })

export function formatCount(value: number): string {
  return integer.format(value)
}

/** `6.25%`, `<0.01%`, or `n/a` when there is no figure (no attempts, unlimited quota). */
export function formatPercent(value: number | null): string {
  if (value === null) return 'n/a'
  if (value > 0 && value < 0.01) return '<0.01%'
  return `${value.toFixed(2)}%`
}

const THRESHOLD_LABELS: Record<ThresholdName, string> = {
  'quota-used': 'Daily quota used',
  'bounce-rate': 'Bounce rate',
  'complaint-rate': 'Complaint rate',
}

const WINDOW_LABELS: Record<HealthWindow, string> = {
  last24Hours: 'last 24 hours',
  last14Days: 'last 14 days',
}

export function describeCrossed(crossed: CrossedThreshold): string {
  return (
    `${THRESHOLD_LABELS[crossed.threshold]} (${WINDOW_LABELS[crossed.window]}): ` +
    `${formatPercent(crossed.value)}, at or above the alert threshold of ${decimal.format(crossed.limit)}%`
  )
}

/** What SES does at the next level above the figure. */
export function sesNextLevel(crossed: CrossedThreshold): string {
  if (crossed.threshold === 'quota-used') {
    return reaches(crossed.value, 100)
      ? 'The quota is used up: SES refuses further messages ("Daily message quota exceeded") until ' +
          'the rolling 24-hour count falls below it. Bounces this service sends may be refused as well.'
      : 'At 100% SES refuses further messages ("Daily message quota exceeded") until the rolling ' +
          '24-hour count falls below the quota. Bounces this service sends may be refused as well.'
  }
  const { review, pause } = SES_LEVELS[crossed.threshold]
  const metric = crossed.threshold === 'bounce-rate' ? 'bounce rate' : 'complaint rate'
  if (reaches(crossed.value, pause)) {
    return `This is at or above ${pause}%, the ${metric} at which SES may pause the account's sending.`
  }
  if (reaches(crossed.value, review)) {
    return (
      `SES puts an account under review at a ${review}% ${metric}; at ${pause}% it may pause ` +
      "the account's sending."
    )
  }
  return `At a ${review}% ${metric} SES puts the account under review; at ${pause}% it may pause its sending.`
}

/** The figures, one per line, as the alert, the digest's text part and the demo show them. */
export function describeSummary(summary: SendingSummary): string[] {
  const quota = summary.unlimited
    ? `Daily quota: unlimited; ${formatCount(summary.sentLast24Hours)} sent in the last 24 hours`
    : `Daily quota: ${formatCount(summary.sentLast24Hours)} of ${formatCount(summary.max24HourSend)} ` +
      `sent in the last 24 hours (${formatPercent(summary.quotaUsedPercent)} used)`
  return [
    quota,
    `Maximum send rate: ${decimal.format(summary.maxSendRate)} per second`,
    `Last 24 hours: ${describeTotals(summary.last24Hours)}`,
    `Last 14 days: ${describeTotals(summary.last14Days)}`,
  ]
}

export function describeTotals(totals: SendingTotals): string {
  return (
    `${formatCount(totals.deliveryAttempts)} delivery attempts, ` +
    `${formatCount(totals.bounces)} bounces (${formatPercent(totals.bounceRatePercent)}), ` +
    `${formatCount(totals.complaints)} complaints (${formatPercent(totals.complaintRatePercent)}), ` +
    `${formatCount(totals.rejects)} rejects`
  )
}

const RATES_NOTE =
  'Rates here are bounces and complaints per delivery attempt in GetSendStatistics. SES computes ' +
  'its own over a representative volume, counting only some bounces and complaints, so treat ' +
  'these as an early warning, not as the figures SES acts on: ' +
  'https://docs.aws.amazon.com/ses/latest/dg/faqs-enforcement.html'

export interface AlertMail {
  readonly subject: string
  readonly text: string
}

/**
 * The plain alert: what crossed, what SES does at the next level, and every figure.
 * `alreadyAlerted` are thresholds still crossed that had their alert earlier today.
 */
export function alertMail(
  crossed: readonly CrossedThreshold[],
  alreadyAlerted: readonly CrossedThreshold[],
  summary: SendingSummary,
  region: string,
): AlertMail {
  const headline = crossed
    .map((entry) => `${THRESHOLD_LABELS[entry.threshold].toLowerCase()} ${formatPercent(entry.value)}`)
    .join(', ')
  const lines = [
    `Amazon SES sending health in ${region} at ${summary.at.toISOString()}: ` +
      `${crossed.length === 1 ? 'one threshold was' : `${crossed.length} thresholds were`} crossed.`,
    '',
    ...crossed.flatMap((entry) => [`- ${describeCrossed(entry)}`, `  ${sesNextLevel(entry)}`]),
    ...(alreadyAlerted.length === 0
      ? []
      : [
          '',
          'Still crossed, alerted earlier today:',
          ...alreadyAlerted.map((entry) => `- ${describeCrossed(entry)}`),
        ]),
    '',
    'Figures',
    ...describeSummary(summary).map((line) => `  ${line}`),
    '',
    RATES_NOTE,
    'Quotas: https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas.html',
    '',
    'You get at most one alert per threshold per UTC day.',
  ]
  return {
    subject: `[ses-bouncer] SES sending health alert in ${region}: ${headline}`,
    text: `${lines.join('\n')}\n`,
  }
}

// ---------- daily digest ----------

export interface DigestDay {
  /** `YYYY-MM-DD`, UTC. */
  readonly day: string
  readonly totals: SendingTotals
  /** Delivery attempts against the busiest day of the chart, 0–100. */
  readonly barPercent: number
}

export interface Digest {
  readonly subject: string
  readonly region: string
  readonly summary: SendingSummary
  readonly crossed: readonly CrossedThreshold[]
  readonly thresholds: Thresholds
  /** The 14 complete UTC days before the day of `summary.at`, oldest first. */
  readonly days: readonly DigestDay[]
  /** Every 15-minute point, oldest first: the CSV attachment. */
  readonly points: readonly SendDataPoint[]
}

/**
 * The digest's content. Bars are whole UTC days, so a digest sent on the first run of a day
 * charts the 14 days before it; today's points so far are only in the CSV.
 */
export function digestModel(summary: SendingSummary, thresholds: Thresholds, region: string): Digest {
  const today = startOfUtcDay(summary.at)
  const starts = Array.from(
    { length: STATISTICS_SPAN_DAYS },
    (_, index) => today - (STATISTICS_SPAN_DAYS - index) * DAY_MS,
  )
  const perDay = starts.map((start) => ({
    day: utcDay(new Date(start)),
    totals: totalsBetween(summary.points, start, start + DAY_MS - 1),
  }))
  const busiest = Math.max(0, ...perDay.map(({ totals }) => totals.deliveryAttempts))
  const days = perDay.map((entry) => ({
    ...entry,
    barPercent: busiest === 0 ? 0 : (entry.totals.deliveryAttempts / busiest) * 100,
  }))
  const first = days[0]?.day ?? utcDay(summary.at)
  const last = days[days.length - 1]?.day ?? utcDay(summary.at)
  return {
    subject: `[ses-bouncer] SES sending health digest for ${region}, ${first} to ${last}`,
    region,
    summary,
    crossed: crossedThresholds(summary, thresholds),
    thresholds,
    days,
    points: summary.points,
  }
}
