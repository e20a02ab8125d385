import MailComposer from 'nodemailer/lib/mail-composer'
import {
  type CrossedThreshold,
  type Digest,
  type DigestDay,
  describeCrossed,
  describeSummary,
  formatCount,
  formatPercent,
  type SendDataPoint,
  sesNextLevel,
  utcDay,
} from '../domain/sending-health.js'

export interface DigestParts {
  readonly subject: string
  readonly html: string
  readonly text: string
  readonly csv: { readonly filename: string; readonly content: string }
}

export const CSV_HEADER = 'timestamp,delivery_attempts,bounces,complaints,rejects'

/** The digest rendered: an HTML bar chart, its plain-text twin, and the 15-minute points as CSV. */
export function renderDigest(digest: Digest): DigestParts {
  return {
    subject: digest.subject,
    html: digestHtml(digest),
    text: digestText(digest),
    csv: {
      filename: `ses-send-statistics-${safeName(digest.region)}-${utcDay(digest.summary.at)}.csv`,
      content: pointsCsv(digest.points),
    },
  }
}

/** RFC 4180: a header line, CRLF line ends; ISO 8601 UTC timestamps of each 15-minute bucket's start. */
export function pointsCsv(points: readonly SendDataPoint[]): string {
  const rows = points.map((point) =>
    [
      isoSeconds(point.timestamp),
      point.deliveryAttempts,
      point.bounces,
      point.complaints,
      point.rejects,
    ].join(','),
  )
  return `${[CSV_HEADER, ...rows].join('\r\n')}\r\n`
}

/**
 * The whole message, built by nodemailer's MailComposer (multipart/mixed: a multipart/alternative
 * of text and HTML, then the CSV). Local files and URLs are refused as content sources.
 */
export async function composeDigestMessage(input: {
  readonly from: string
  readonly to: readonly string[]
  readonly digest: Digest
}): Promise<Buffer> {
  const parts = renderDigest(input.digest)
  const composer = new MailComposer({
    from: input.from,
    to: [...input.to],
    subject: parts.subject,
    // SendRawEmail replaces Date and Message-ID (API reference: SendRawEmail); these are for local runs.
    date: input.digest.summary.at,
    text: parts.text,
    html: parts.html,
    attachments: [
      {
        filename: parts.csv.filename,
        content: parts.csv.content,
        contentType: 'text/csv; charset=utf-8',
      },
    ],
    headers: { 'Auto-Submitted': 'auto-generated' },
    disableFileAccess: true,
    disableUrlAccess: true,
  })
  return composer.compile().build()
}

// ---------- HTML ----------

const COLORS = {
  page: '#f4f5f7',
  card: '#ffffff',
  text: '#1f2933',
  muted: '#52606d',
  rule: '#d9e2ec',
  attempts: '#3b82c4',
  bounces: '#c0392b',
  warning: '#fdf2e9',
} as const
const FONT = 'Arial,Helvetica,sans-serif'

/**
 * Tables, inline styles and `bgcolor` only: mail clients (Outlook's Word engine above all) drop
 * style sheets, flexbox and external images, but draw table cells with widths and colors.
 */
function digestHtml(digest: Digest): string {
  const { summary } = digest
  const first = digest.days[0]?.day ?? ''
  const last = digest.days[digest.days.length - 1]?.day ?? ''
  const title = `SES sending health, ${digest.region}`
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    '</head>',
    `<body style="margin:0;padding:0;background-color:${COLORS.page};">`,
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="${COLORS.page}">`,
    '<tr><td align="center" style="padding:16px 8px;">',
    `<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" bgcolor="${COLORS.card}" ` +
      `style="width:100%;max-width:640px;background-color:${COLORS.card};font-family:${FONT};color:${COLORS.text};">`,
    `<tr><td style="padding:20px 24px 4px;"><h1 style="margin:0;font-size:20px;line-height:26px;">${escapeHtml(title)}</h1>`,
    `<p style="margin:4px 0 0;font-size:13px;color:${COLORS.muted};">` +
      `${escapeHtml(first)} to ${escapeHtml(last)} (UTC days) &middot; figures at ${escapeHtml(isoSeconds(summary.at))}</p></td></tr>`,
    ...crossedHtml(digest.crossed),
    `<tr><td style="padding:12px 24px 4px;">${figuresHtml(digest)}</td></tr>`,
    `<tr><td style="padding:16px 24px 4px;"><h2 style="margin:0 0 8px;font-size:16px;">Delivery attempts per day</h2>`,
    chartHtml(digest),
    legendHtml(),
    '</td></tr>',
    `<tr><td style="padding:16px 24px 20px;font-size:12px;line-height:18px;color:${COLORS.muted};">` +
      'The attached CSV holds every 15-minute data point of GetSendStatistics. ' +
      'Rates are bounces and complaints per delivery attempt; SES computes its own over a ' +
      'representative volume, so treat them as an early warning (' +
      '<a href="https://docs.aws.amazon.com/ses/latest/dg/faqs-enforcement.html" style="color:#1f5f99;">' +
      'SES enforcement FAQ</a>).</td></tr>',
    '</table>',
    '</td></tr></table>',
    '</body>',
    '</html>',
    '',
  ].join('\r\n')
}

function crossedHtml(crossed: readonly CrossedThreshold[]): string[] {
  if (crossed.length === 0) return []
  const items = crossed
    .map(
      (entry) =>
        `<li style="margin:0 0 6px;"><strong>${escapeHtml(describeCrossed(entry))}</strong><br>` +
        `${escapeHtml(sesNextLevel(entry))}</li>`,
    )
    .join('')
  return [
    `<tr><td style="padding:12px 24px 0;"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="${COLORS.warning}">` +
      `<tr><td style="padding:10px 14px;border-left:4px solid ${COLORS.bounces};font-size:13px;line-height:19px;">` +
      `<p style="margin:0 0 6px;font-weight:bold;">Alert thresholds crossed</p>` +
      `<ul style="margin:0;padding:0 0 0 18px;">${items}</ul></td></tr></table></td></tr>`,
  ]
}

function figuresHtml(digest: Digest): string {
  const { summary } = digest
  const row = (label: string, last24Hours: string, last14Days: string) =>
    `<tr><td style="padding:4px 8px 4px 0;border-bottom:1px solid ${COLORS.rule};">${escapeHtml(label)}</td>` +
    `<td align="right" style="padding:4px 8px;border-bottom:1px solid ${COLORS.rule};">${escapeHtml(last24Hours)}</td>` +
    `<td align="right" style="padding:4px 0 4px 8px;border-bottom:1px solid ${COLORS.rule};">${escapeHtml(last14Days)}</td></tr>`
  const a = summary.last24Hours
  const b = summary.last14Days
  const quota = summary.unlimited
    ? `Daily quota: unlimited; ${formatCount(summary.sentLast24Hours)} sent in the last 24 hours.`
    : `Daily quota: ${formatCount(summary.sentLast24Hours)} of ${formatCount(summary.max24HourSend)} sent in ` +
      `the last 24 hours, ${formatPercent(summary.quotaUsedPercent)} used.`
  return [
    `<p style="margin:0 0 4px;font-size:14px;line-height:20px;">${escapeHtml(quota)}</p>`,
    `<p style="margin:0 0 10px;font-size:14px;line-height:20px;">Maximum send rate: ` +
      `${escapeHtml(String(summary.maxSendRate))} per second.</p>`,
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="font-size:13px;line-height:18px;">`,
    `<tr><th align="left" style="padding:4px 8px 4px 0;border-bottom:2px solid ${COLORS.rule};"></th>` +
      `<th align="right" style="padding:4px 8px;border-bottom:2px solid ${COLORS.rule};">Last 24 hours</th>` +
      `<th align="right" style="padding:4px 0 4px 8px;border-bottom:2px solid ${COLORS.rule};">Last 14 days</th></tr>`,
    row('Delivery attempts', formatCount(a.deliveryAttempts), formatCount(b.deliveryAttempts)),
    row('Bounces', formatCount(a.bounces), formatCount(b.bounces)),
    row('Bounce rate', formatPercent(a.bounceRatePercent), formatPercent(b.bounceRatePercent)),
    row('Complaints', formatCount(a.complaints), formatCount(b.complaints)),
    row('Complaint rate', formatPercent(a.complaintRatePercent), formatPercent(b.complaintRatePercent)),
    row('Rejects', formatCount(a.rejects), formatCount(b.rejects)),
    '</table>',
  ].join('\r\n')
}

function chartHtml(digest: Digest): string {
  const rows = digest.days.map((day) => chartRow(day, digest.thresholds.bounceRatePercent))
  return [
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="font-size:12px;line-height:16px;">`,
    ...rows,
    '</table>',
  ].join('\r\n')
}

function chartRow(day: DigestDay, bounceLimit: number): string {
  const { totals } = day
  const rate = totals.bounceRatePercent
  const rateStyle = rate !== null && rate >= bounceLimit ? `color:${COLORS.bounces};font-weight:bold;` : ''
  return (
    `<tr><td width="84" style="width:84px;padding:3px 8px 3px 0;white-space:nowrap;">${escapeHtml(day.day)}</td>` +
    `<td style="padding:3px 0;">${bar(day)}</td>` +
    `<td width="150" align="right" style="width:150px;padding:3px 0 3px 8px;white-space:nowrap;">` +
    `${escapeHtml(formatCount(totals.deliveryAttempts))} &middot; ` +
    `<span style="${rateStyle}">${escapeHtml(formatPercent(rate))}</span></td></tr>`
  )
}

/** A bar as wide as the day's attempts against the busiest day; the red share is the bounces. */
function bar(day: DigestDay): string {
  const { totals } = day
  if (totals.deliveryAttempts === 0) return '&nbsp;'
  const width = Math.max(1, Math.round(day.barPercent))
  const cell = (color: string, percent?: number) =>
    `<td${percent === undefined ? '' : ` width="${percent}%"`} height="14" bgcolor="${color}" ` +
    `style="${percent === undefined ? '' : `width:${percent}%;`}height:14px;background-color:${color};font-size:0;line-height:0;">&nbsp;</td>`
  const bounceShare =
    totals.bounces === 0 ? 0 : Math.max(1, Math.round((totals.bounces / totals.deliveryAttempts) * 100))
  const cells =
    bounceShare === 0 ? cell(COLORS.attempts) : cell(COLORS.bounces, bounceShare) + cell(COLORS.attempts)
  return (
    `<table role="presentation" width="${width}%" cellpadding="0" cellspacing="0" border="0" style="width:${width}%;">` +
    `<tr>${cells}</tr></table>`
  )
}

function legendHtml(): string {
  const swatch = (color: string) =>
    `<span style="display:inline-block;width:10px;height:10px;background-color:${color};"></span>`
  return (
    `<p style="margin:8px 0 0;font-size:12px;color:${COLORS.muted};">` +
    `${swatch(COLORS.attempts)} delivery attempts &nbsp; ${swatch(COLORS.bounces)} bounces (share of attempts) ` +
    '&nbsp; right: attempts &middot; bounce rate</p>'
  )
}

// ---------- text ----------

const TEXT_BAR_WIDTH = 40

function digestText(digest: Digest): string {
  const { summary } = digest
  const first = digest.days[0]?.day ?? ''
  const last = digest.days[digest.days.length - 1]?.day ?? ''
  const lines = [
    `SES sending health, ${digest.region}: ${first} to ${last} (UTC days), figures at ${isoSeconds(summary.at)}`,
    '',
    ...(digest.crossed.length === 0
      ? []
      : [
          'Alert thresholds crossed:',
          ...digest.crossed.flatMap((entry) => [`- ${describeCrossed(entry)}`, `  ${sesNextLevel(entry)}`]),
          '',
        ]),
    ...describeSummary(summary),
    '',
    'Delivery attempts per day (# = attempts against the busiest day):',
    ...textChart(digest.days),
    '',
    'The attached CSV holds every 15-minute data point of GetSendStatistics.',
    'Rates are bounces and complaints per delivery attempt; SES computes its own over a',
    'representative volume, so treat them as an early warning:',
    'https://docs.aws.amazon.com/ses/latest/dg/faqs-enforcement.html',
  ]
  return `${lines.join('\r\n')}\r\n`
}

/** One line per day: `2026-03-01 ####…  12,345 attempts, bounces 0.91%, complaints 0.03%`. */
export function textChart(days: readonly DigestDay[]): string[] {
  return days.map((day) => {
    const { totals } = day
    const bars =
      totals.deliveryAttempts === 0 ? 0 : Math.max(1, Math.round((day.barPercent / 100) * TEXT_BAR_WIDTH))
    return (
      `${day.day} ${'#'.repeat(bars).padEnd(TEXT_BAR_WIDTH)} ` +
      `${formatCount(totals.deliveryAttempts).padStart(9)} attempts, ` +
      `bounces ${formatPercent(totals.bounceRatePercent)}, ` +
      `complaints ${formatPercent(totals.complaintRatePercent)}`
    )
  })
}

// ---------- helpers ----------

function isoSeconds(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function safeName(value: string): string {
  return value.replace(/[^A-Za-z0-9-]/g, '_')
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
