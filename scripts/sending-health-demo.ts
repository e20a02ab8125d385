/**
 * The sending-health summary of the sample in events/send-statistics.json, computed offline by the
 * same code the quota handler runs (the SES result mapping, summarize, thresholds). No AWS calls.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { z } from 'zod'
import { textChart } from '../src/adapters/digest-mail.js'
import { dataPointsFromSes, quotaFromSes } from '../src/adapters/ses-sending-stats.js'
import {
  crossedThresholds,
  DEFAULT_THRESHOLDS,
  describeCrossed,
  describeSummary,
  digestModel,
  formatCount,
  sesNextLevel,
  summarize,
} from '../src/domain/sending-health.js'

export const SAMPLE_FILE = join(import.meta.dirname, '..', 'events', 'send-statistics.json')

const timestamp = z.iso.datetime({ offset: true }).transform((value) => new Date(value))

/** The sample file: the two SES results as the API returns them, and when they were captured. */
const SampleSchema = z.object({
  region: z.string(),
  capturedAt: timestamp,
  GetSendQuota: z.object({
    Max24HourSend: z.number(),
    MaxSendRate: z.number(),
    SentLast24Hours: z.number(),
  }),
  GetSendStatistics: z.object({
    SendDataPoints: z.array(
      z.object({
        Timestamp: timestamp,
        DeliveryAttempts: z.number(),
        Bounces: z.number(),
        Complaints: z.number(),
        Rejects: z.number(),
      }),
    ),
  }),
})

export type SendingSample = z.infer<typeof SampleSchema>

/** The sample file, checked. */
export async function readSendingSample(file: string = SAMPLE_FILE): Promise<SendingSample> {
  return SampleSchema.parse(JSON.parse(await readFile(file, 'utf8')))
}

export async function sendingHealthSummary(file: string = SAMPLE_FILE): Promise<string> {
  const sample = await readSendingSample(file)
  const quota = quotaFromSes(sample.GetSendQuota)
  const points = dataPointsFromSes(sample.GetSendStatistics)
  const summary = summarize(quota, points, sample.capturedAt)
  const crossed = crossedThresholds(summary, DEFAULT_THRESHOLDS)
  const digest = digestModel(summary, DEFAULT_THRESHOLDS, sample.region)
  const { quotaUsedPercent, bounceRatePercent, complaintRatePercent } = DEFAULT_THRESHOLDS

  return [
    `Sending health of the sample account (events/send-statistics.json: ${sample.region}, ` +
      `${formatCount(points.length)} unsorted 15-minute points, at ${sample.capturedAt.toISOString()}; no AWS)`,
    '',
    ...describeSummary(summary).map((line) => `  ${line}`),
    '',
    '  Delivery attempts per UTC day:',
    ...textChart(digest.days).map((line) => `  ${line}`),
    '',
    `Alert thresholds (defaults): quota used ${quotaUsedPercent}%, bounce rate ${bounceRatePercent}%, ` +
      `complaint rate ${complaintRatePercent}% (rates over the last 14 days)`,
    ...(crossed.length === 0
      ? ['  none crossed: the quota handler would only log its summary line']
      : [
          ...crossed.flatMap((entry) => [`  - ${describeCrossed(entry)}`, `    ${sesNextLevel(entry)}`]),
          '  The quota handler would log a warning and, with ALERT_EMAIL_TO and ALERT_EMAIL_FROM set,',
          '  send one alert e-mail (SendEmail) for these, at most once per threshold per UTC day.',
        ]),
  ].join('\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await sendingHealthSummary())
}
