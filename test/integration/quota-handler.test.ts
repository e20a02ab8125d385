import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb'
import { simpleParser } from 'mailparser'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { addressToken } from '../../src/runtime/log-addresses.js'
import { coldStart as coldStartOf } from '../support/cold-start.js'
import { type DynamoServer, startDynamo } from '../support/dynamo-server.js'
import { AN_ADDRESS, captureOutput, type LogLine, lambdaContext } from '../support/lambda.js'
import { type SendDataPoint, type SesStub, startSesStub } from '../support/ses-stub.js'

const ROOT = join(import.meta.dirname, '..', '..')
const TABLE = 'ses-bouncer-idempotency'
const scheduledEvent = JSON.parse(readFileSync(join(ROOT, 'events', 'scheduled.json'), 'utf8'))

interface Sample {
  capturedAt: string
  GetSendQuota: { Max24HourSend: number; MaxSendRate: number; SentLast24Hours: number }
  GetSendStatistics: { SendDataPoints: (Omit<SendDataPoint, 'Timestamp'> & { Timestamp: string })[] }
}
const sample = JSON.parse(readFileSync(join(ROOT, 'events', 'send-statistics.json'), 'utf8')) as Sample
/** The handler reads the clock; the sample is pinned to the moment it was captured. */
const NOW = new Date(sample.capturedAt)
const samplePoints: SendDataPoint[] = sample.GetSendStatistics.SendDataPoints.map((p) => ({
  ...p,
  Timestamp: new Date(p.Timestamp),
}))

const MAIL_ENV = {
  ALERT_EMAIL_TO: 'ops@example.com, oncall@example.com',
  ALERT_EMAIL_FROM: 'ses-health@example.com',
  SES_CONFIGURATION_SET: 'ops-mail',
  ALERT_EMAIL_TAGS: 'app=ses-bouncer,kind=sending-health',
}

// Date is pinned to the sample's moment, months away from the real Date header the stub answers
// with: the SDK would take that for clock skew and retry a failed call once after "correcting"
// it. The SDK reads this variable once per process, on the first signed request (dynalite's
// CreateTable below), so it is set before anything else runs in this file's worker.
process.env.AWS_DISABLE_CLOCK_SKEW_CORRECTION = 'true'

let ses: SesStub
let dynamo: DynamoServer
let dynamoClient: DynamoDBClient

beforeAll(async () => {
  ;[ses, dynamo] = await Promise.all([
    startSesStub(),
    startDynamo({ tables: [{ name: TABLE, partitionKey: 'id' }] }),
  ])
  dynamoClient = new DynamoDBClient({ endpoint: dynamo.url, region: 'us-east-1' })
})

afterAll(async () => {
  dynamoClient?.destroy()
  await Promise.all([ses?.close(), dynamo?.close()])
})

beforeEach(async () => {
  // Only Date is faked: timers, sockets and the SDK's retries run for real.
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] })
  ses.setQuota(sample.GetSendQuota)
  ses.setStatistics(samplePoints)
  const { Items = [] } = await dynamoClient.send(new ScanCommand({ TableName: TABLE }))
  for (const item of Items) {
    await dynamoClient.send(new DeleteItemCommand({ TableName: TABLE, Key: { id: item.id ?? { S: '' } } }))
  }
})

afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllEnvs()
  ses.reset()
})

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<Record<string, unknown>>

async function loadHandler(
  env: Record<string, string> = {},
): Promise<{ handler: Handler; coldStart: LogLine[] }> {
  const lines: LogLine[] = []
  const handler = await coldStartOf<Handler>(
    () => import('../../handlers/quota.js'),
    {
      AWS_ENDPOINT_URL_SES: ses.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
      IDEMPOTENCY_TABLE: TABLE,
      ...env,
    },
    lines,
  )
  return { handler, coldStart: lines }
}

async function invoke(handler: Handler, event: unknown = scheduledEvent, timeoutMs = 30_000) {
  const output = captureOutput()
  try {
    const result = await handler(event, lambdaContext(timeoutMs, 'ses-bouncer-test-quota')).catch(
      (error: unknown) => error as Error,
    )
    return { result, lines: output.lines() }
  } finally {
    output.restore()
  }
}

function healthLine(lines: LogLine[]): LogLine {
  const line = lines.find((entry) => entry.quota !== undefined && entry.last14Days !== undefined)
  if (line === undefined) throw new Error(`no sending-health line in ${JSON.stringify(lines)}`)
  return line
}

function metricsOf(lines: LogLine[]): Record<string, unknown> {
  const emf = lines.find((line) => line._aws !== undefined)
  if (emf === undefined) throw new Error('no EMF line')
  return emf
}

describe('quota handler through middy, against the loopback SES stub and dynalite', () => {
  it('reads quota and statistics, logs one line with every figure, and emits the metrics', async () => {
    const { handler } = await loadHandler({ QUOTA_ALERT_PERCENT: '90', BOUNCE_RATE_ALERT_PERCENT: '10' })
    const { result, lines } = await invoke(handler)

    expect(ses.requestsFor('GetSendQuota').map((r) => r.params)).toEqual([
      { Action: 'GetSendQuota', Version: '2010-12-01' },
    ])
    expect(ses.requestsFor('GetSendStatistics').map((r) => r.params)).toEqual([
      { Action: 'GetSendStatistics', Version: '2010-12-01' },
    ])
    expect(ses.requests).toHaveLength(2)

    const line = healthLine(lines)
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'SES sending health',
      service: 'ses-bouncer',
      function_name: 'ses-bouncer-test-quota',
      region: 'us-east-1',
      at: '2026-03-14T09:07:00.000Z',
      quota: {
        max24HourSend: 100_000,
        unlimited: false,
        maxSendRate: 50,
        sentLast24Hours: 85_041,
        quotaUsedPercent: 85.041,
      },
      last24Hours: { deliveryAttempts: 84_829, bounces: 18_729, complaints: 137, rejects: 2 },
      last14Days: {
        deliveryAttempts: 336_755,
        bounces: 21_082,
        complaints: 208,
        rejects: 48,
        bounceRatePercent: 6.2603,
        complaintRatePercent: 0.0618,
      },
      dataPoints: 1_344,
      firstPointAt: '2026-02-28T09:13:00.000Z',
      lastPointAt: '2026-03-14T08:58:00.000Z',
      thresholds: { quotaUsedPercent: 90, bounceRatePercent: 10, complaintRatePercent: 0.1 },
      crossed: [],
      alert: { outcome: 'none' },
      digest: { outcome: 'off' },
    })
    expect(lines.filter((entry) => entry.quota !== undefined)).toHaveLength(1)
    expect(result).toMatchObject({ quota: { quotaUsedPercent: 85.041 }, alert: { outcome: 'none' } })

    const emf = metricsOf(lines)
    expect(emf).toMatchObject({
      service: 'ses-bouncer',
      QuotaUsedPercent: 85.041,
      SentLast24Hours: 85_041,
      Max24HourSend: 100_000,
      MaxSendRate: 50,
      BounceRate: 6.2603,
      ComplaintRate: 0.0618,
    })
    const [directive] = (
      emf._aws as { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string; Unit: string }[] }[] }
    ).CloudWatchMetrics
    expect(directive?.Namespace).toBe('SesBouncer')
    expect(Object.fromEntries(directive?.Metrics.map((m) => [m.Name, m.Unit]) ?? [])).toEqual({
      QuotaUsedPercent: 'Percent',
      SentLast24Hours: 'Count',
      Max24HourSend: 'Count',
      MaxSendRate: 'Count/Second',
      BounceRate: 'Percent',
      ComplaintRate: 'Percent',
    })
  })

  it('sends one exact SendEmail alert for the crossed thresholds, and none again that day', async () => {
    const { handler } = await loadHandler(MAIL_ENV)
    const { lines } = await invoke(handler)

    const line = healthLine(lines)
    expect(line.level).toBe('WARN')
    expect(line.message).toBe('SES sending health: alert threshold crossed (quota-used, bounce-rate)')
    expect(line.crossed).toEqual([
      { threshold: 'quota-used', value: 85.041, limit: 80, window: 'last24Hours' },
      { threshold: 'bounce-rate', value: 6.2603, limit: 5, window: 'last14Days' },
    ])
    expect(line.alert).toMatchObject({
      outcome: 'sent',
      thresholds: ['quota-used', 'bounce-rate'],
      alreadySentToday: [],
      messageId: expect.stringMatching(/^0100/),
    })

    const sends = ses.requestsFor('SendEmail')
    expect(sends).toHaveLength(1)
    expect(sends[0]?.params).toEqual({
      Action: 'SendEmail',
      Version: '2010-12-01',
      Source: 'ses-health@example.com',
      'Destination.ToAddresses.member.1': 'ops@example.com',
      'Destination.ToAddresses.member.2': 'oncall@example.com',
      'Message.Subject.Data':
        '[ses-bouncer] SES sending health alert in us-east-1: daily quota used 85.04%, bounce rate 6.26%',
      'Message.Subject.Charset': 'UTF-8',
      'Message.Body.Text.Data': expect.stringContaining(
        '- Bounce rate (last 14 days): 6.26%, at or above the alert threshold of 5%\n' +
          "  SES puts an account under review at a 5% bounce rate; at 10% it may pause the account's sending.",
      ),
      'Message.Body.Text.Charset': 'UTF-8',
      ConfigurationSetName: 'ops-mail',
      'Tags.member.1.Name': 'app',
      'Tags.member.1.Value': 'ses-bouncer',
      'Tags.member.2.Name': 'kind',
      'Tags.member.2.Value': 'sending-health',
    })
    expect(sends[0]?.params['Message.Body.Text.Data']).toContain(
      'Daily quota: 85,041 of 100,000 sent in the last 24 hours (85.04% used)',
    )

    const claim = await dynamoClient.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { id: { S: 'ses-bouncer#sending-health#alert#bounce-rate#2026-03-14' } },
      }),
    )
    expect(claim.Item?.expiration).toEqual({ N: String(Date.UTC(2026, 2, 16) / 1000) })

    // An hour later, and from a fresh container: the state is in the table, not in memory.
    vi.setSystemTime(NOW.getTime() + 60 * 60 * 1000)
    const { handler: coldAgain } = await loadHandler(MAIL_ENV)
    const again = await invoke(coldAgain)
    expect(healthLine(again.lines).alert).toEqual({
      outcome: 'already-sent',
      alreadySentToday: ['quota-used', 'bounce-rate'],
    })
    expect(ses.requestsFor('SendEmail')).toHaveLength(1)
  })

  it('sends one alert when two containers run at once: the conditional put lets one claim win', async () => {
    const { handler: first } = await loadHandler(MAIL_ENV)
    const { handler: second } = await loadHandler(MAIL_ENV)
    const output = captureOutput()
    try {
      await Promise.all([
        first(scheduledEvent, lambdaContext(30_000, 'ses-bouncer-test-quota')),
        second(scheduledEvent, lambdaContext(30_000, 'ses-bouncer-test-quota')),
      ])
    } finally {
      output.restore()
    }
    expect(ses.requestsFor('SendEmail')).toHaveLength(1)
    const alerts = output
      .lines()
      .filter((line) => line.quota !== undefined)
      .map((line) => (line.alert as { outcome: string }).outcome)
    expect(alerts.sort()).toEqual(['already-sent', 'sent'])
  })

  it('sends the daily digest once with SendRawEmail: HTML, text and the CSV of every point', async () => {
    const { handler } = await loadHandler({
      ...MAIL_ENV,
      ALERT_EMAIL_TO: '',
      DIGEST_EMAIL_TO: 'team@example.com',
    })
    const { lines } = await invoke(handler)
    expect(healthLine(lines).digest).toMatchObject({ outcome: 'sent', day: '2026-03-14' })
    expect(healthLine(lines).alert).toEqual({ outcome: 'off' })
    expect(ses.requestsFor('SendEmail')).toHaveLength(0)

    const raws = ses.requestsFor('SendRawEmail')
    expect(raws).toHaveLength(1)
    const { 'RawMessage.Data': data, ...params } = raws[0]?.params ?? {}
    expect(params).toEqual({
      Action: 'SendRawEmail',
      Version: '2010-12-01',
      Source: 'ses-health@example.com',
      'Destinations.member.1': 'team@example.com',
      ConfigurationSetName: 'ops-mail',
      'Tags.member.1.Name': 'app',
      'Tags.member.1.Value': 'ses-bouncer',
      'Tags.member.2.Name': 'kind',
      'Tags.member.2.Value': 'sending-health',
    })
    const mail = await simpleParser(Buffer.from(data ?? '', 'base64'))
    expect(mail.subject).toBe(
      '[ses-bouncer] SES sending health digest for us-east-1, 2026-02-28 to 2026-03-13',
    )
    expect(mail.from?.text).toBe('ses-health@example.com')
    expect(mail.html).toContain('Delivery attempts per day')
    expect(mail.html).toContain('2026-03-13</td>')
    expect(mail.text).toContain(
      '2026-03-13 ########################################    86,464 attempts, bounces 21.69%',
    )
    expect(mail.attachments).toHaveLength(1)
    const rows = mail.attachments[0]?.content.toString('utf8').trimEnd().split('\r\n') ?? []
    expect(rows[0]).toBe('timestamp,delivery_attempts,bounces,complaints,rejects')
    expect(rows).toHaveLength(1 + samplePoints.length)
    const sorted = [...samplePoints].sort((a, b) => a.Timestamp.getTime() - b.Timestamp.getTime())
    const first = sorted[0]
    expect(rows[1]).toBe(
      `2026-02-28T09:13:00Z,${first?.DeliveryAttempts},${first?.Bounces},${first?.Complaints},${first?.Rejects}`,
    )
    expect(rows.at(-1)?.startsWith('2026-03-14T08:58:00Z,')).toBe(true)

    vi.setSystemTime(NOW.getTime() + 60 * 60 * 1000)
    const again = await invoke(handler)
    expect(healthLine(again.lines).digest).toEqual({ outcome: 'already-sent', day: '2026-03-14' })
    expect(ses.requestsFor('SendRawEmail')).toHaveLength(1)
  })

  it('fails the run with a clear error when GetSendStatistics keeps failing, sending nothing', async () => {
    const { handler } = await loadHandler(MAIL_ENV)
    ses.failNext('GetSendStatistics', { status: 500, code: 'InternalFailure', message: 'boom' }, 5)
    const { result, lines } = await invoke(handler)

    expect(result).toBeInstanceOf(Error)
    expect((result as Error).message).toBe('GetSendStatistics: InternalFailure (HTTP 500): boom')
    expect((result as Error).name).toBe('SendingStatsUnavailableError')
    expect(ses.requestsFor('GetSendStatistics')).toHaveLength(5) // the SDK's attempts, then no more
    expect(ses.requestsFor('SendEmail')).toHaveLength(0)
    const errors = lines.filter((line) => line.level === 'ERROR')
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({
      message: 'SES sending health not reported: the statistics could not be read',
      error: {
        name: 'SendingStatsUnavailableError',
        message: 'GetSendStatistics: InternalFailure (HTTP 500): boom',
      },
    })
  })

  it('fails the run when SendEmail is rejected, after logging every figure, and retries the alert next run', async () => {
    const { handler } = await loadHandler(MAIL_ENV)
    ses.failNext('SendEmail', {
      status: 400,
      code: 'MessageRejected',
      message: 'Email address is not verified.',
    })
    const { result, lines } = await invoke(handler)

    expect(result).toBeInstanceOf(Error)
    expect((result as Error).name).toBe('NotificationFailedError')
    expect((result as Error).message).toBe(
      'SendEmail (alert to ops@example.com, oncall@example.com): MessageRejected (HTTP 400): Email address is not verified.',
    )
    expect(ses.requestsFor('SendEmail')).toHaveLength(1) // a permanent error: not retried by the SDK
    const line = healthLine(lines)
    expect(line).toMatchObject({
      level: 'ERROR',
      message: 'SES sending health reported, but a notification failed',
      alert: { outcome: 'failed', thresholds: ['quota-used', 'bounce-rate'] },
      quota: { sentLast24Hours: 85_041 },
    })
    expect(JSON.stringify(line.error)).toContain('MessageRejected')
    expect(metricsOf(lines)).toMatchObject({ BounceRate: 6.2603 })

    const retry = await invoke(handler)
    expect(retry.result).not.toBeInstanceOf(Error)
    expect(healthLine(retry.lines).alert).toMatchObject({ outcome: 'sent' })
    expect(ses.requestsFor('SendEmail')).toHaveLength(2)
  })

  it('with LOG_ADDRESSES=hash keeps every address out of its log lines and its error, not out of the mail', async () => {
    const key = 'quota-test-key-0123456789abcdef0123'
    const { handler, coldStart } = await loadHandler({
      ...MAIL_ENV,
      LOG_ADDRESSES: 'hash',
      LOG_ADDRESS_KEY: key,
    })
    ses.failNext('SendEmail', {
      status: 400,
      code: 'MessageRejected',
      message:
        'Email address is not verified. The following identities failed the check: ses-health@example.com',
    })
    const { result, lines } = await invoke(handler)
    expect((result as Error).message).toBe(
      `SendEmail (alert to ${addressToken('ops@example.com', key)}, ${addressToken('oncall@example.com', key)}): ` +
        `MessageRejected (HTTP 400): Email address is not verified. The following identities failed the check: ${addressToken('ses-health@example.com', key)}`,
    )
    expect(lines.length).toBeGreaterThan(1)
    for (const line of [...coldStart, ...lines]) expect(JSON.stringify(line)).not.toMatch(AN_ADDRESS)
    expect(ses.requestsFor('SendEmail')[0]?.params['Destination.ToAddresses.member.1']).toBe(
      'ops@example.com',
    )
  })

  it('gives up within the invocation deadline when SES hangs', async () => {
    const { handler } = await loadHandler()
    ses.failNext('GetSendQuota', { delayMs: 20_000 }, 5)
    const started = performance.now()
    const { result } = await invoke(handler, scheduledEvent, 3_000)
    expect(result).toBeInstanceOf(Error)
    expect((result as Error).message).toMatch(/^GetSendQuota: /)
    expect(performance.now() - started).toBeLessThan(3_000)
  })

  it('is lenient about the event: a hand-made one is reported with a warning', async () => {
    const { handler } = await loadHandler()
    const { result, lines } = await invoke(handler, {})
    expect(result).not.toBeInstanceOf(Error)
    expect(lines.find((line) => line.level === 'WARN')?.message).toBe(
      'the event is not an EventBridge scheduled event; reporting anyway',
    )
    expect(healthLine(lines).level).toBe('WARN') // the sample crosses the default thresholds
  })

  it('treats an unlimited quota and empty statistics as a quiet account', async () => {
    ses.setQuota({ Max24HourSend: -1, MaxSendRate: 200, SentLast24Hours: 0 })
    ses.setStatistics([])
    const { handler } = await loadHandler(MAIL_ENV)
    const { result, lines } = await invoke(handler)
    expect(result).not.toBeInstanceOf(Error)
    expect(healthLine(lines)).toMatchObject({
      level: 'INFO',
      quota: { max24HourSend: -1, unlimited: true, quotaUsedPercent: null },
      last14Days: { deliveryAttempts: 0, bounceRatePercent: null, complaintRatePercent: null },
      dataPoints: 0,
      alert: { outcome: 'none' },
    })
    // Powertools drops top-level null keys from the line; the handler's result keeps them.
    expect(healthLine(lines)).not.toHaveProperty('firstPointAt')
    expect(result).toMatchObject({ firstPointAt: null, lastPointAt: null })
    const emf = metricsOf(lines)
    expect(emf).toMatchObject({ SentLast24Hours: 0, MaxSendRate: 200 })
    expect(emf).not.toHaveProperty('QuotaUsedPercent')
    expect(emf).not.toHaveProperty('Max24HourSend')
    expect(emf).not.toHaveProperty('BounceRate')
  })

  it('warns at cold start that once a day is per container without a table', async () => {
    const { handler, coldStart } = await loadHandler({ ...MAIL_ENV, IDEMPOTENCY_TABLE: '' })
    expect(coldStart.map((line) => line.message)).toContain(
      'IDEMPOTENCY_TABLE is not set: "once a day" for alerts and the digest holds per warm container only; a cold start may send them again',
    )
    await invoke(handler)
    await invoke(handler)
    expect(ses.requestsFor('SendEmail')).toHaveLength(1)
  })

  it('refuses to start with LOG_ADDRESSES=hash and no key, withholding addresses from that line', async () => {
    const output = captureOutput()
    try {
      await expect(loadHandler({ ...MAIL_ENV, LOG_ADDRESSES: 'hash' })).rejects.toThrow(
        /LOG_ADDRESS_KEY: required with LOG_ADDRESSES=hash/,
      )
    } finally {
      output.restore()
    }
  })

  it('refuses to start on an invalid environment, listing every problem', async () => {
    await expect(
      loadHandler({
        BOUNCE_RATE_ALERT_PERCENT: 'high',
        ALERT_EMAIL_TO: 'ops@example.com',
        ALERT_EMAIL_FROM: '',
      }),
    ).rejects.toThrow(
      /Invalid quota handler environment \(2 problems\):\n {2}- BOUNCE_RATE_ALERT_PERCENT: .*\n {2}- ALERT_EMAIL_FROM: required when ALERT_EMAIL_TO is set/,
    )
  })
})
