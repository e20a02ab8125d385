import { type ParsedMail, simpleParser } from 'mailparser'
import { describe, expect, it } from 'vitest'
import { sendingHealthSummary } from '../../scripts/sending-health-demo.js'
import { CSV_HEADER, composeDigestMessage, pointsCsv, renderDigest } from '../../src/adapters/digest-mail.js'
import { dataPointsFromSes, quotaFromSes } from '../../src/adapters/ses-sending-stats.js'
import { ConfigError } from '../../src/config/problems.js'
import { loadQuotaConfig } from '../../src/config/quota-config.js'
import {
  alertKey,
  alertMail,
  claimExpiry,
  crossedThresholds,
  DAY_MS,
  DEFAULT_THRESHOLDS,
  digestKey,
  digestModel,
  formatPercent,
  type SendDataPoint,
  type SendQuota,
  sesNextLevel,
  summarize,
} from '../../src/domain/sending-health.js'

const NOW = new Date('2026-03-14T09:07:00Z')
const MINUTE = 60_000
const QUOTA: SendQuota = { max24HourSend: 50_000, maxSendRate: 14, sentLast24Hours: 1_000 }

function point(at: Date | number, counts: Partial<Omit<SendDataPoint, 'timestamp'>> = {}): SendDataPoint {
  return {
    timestamp: new Date(at),
    deliveryAttempts: 0,
    bounces: 0,
    complaints: 0,
    rejects: 0,
    ...counts,
  }
}

const ago = (ms: number) => NOW.getTime() - ms

describe('summarize', () => {
  it('sorts unsorted points and totals the 24-hour and 14-day windows', () => {
    const points = [
      point(ago(3 * DAY_MS), { deliveryAttempts: 1_000, bounces: 40, complaints: 2, rejects: 1 }),
      point(ago(15 * MINUTE), { deliveryAttempts: 200, bounces: 2, complaints: 1 }),
      point(ago(10 * DAY_MS), { deliveryAttempts: 800, bounces: 8, rejects: 3 }),
      point(ago(23 * 60 * MINUTE), { deliveryAttempts: 100, bounces: 8 }),
    ]
    const summary = summarize(QUOTA, points, NOW)

    expect(summary.points.map((p) => p.timestamp.getTime())).toEqual([
      ago(10 * DAY_MS),
      ago(3 * DAY_MS),
      ago(23 * 60 * MINUTE),
      ago(15 * MINUTE),
    ])
    expect(summary.last24Hours).toEqual({
      deliveryAttempts: 300,
      bounces: 10,
      complaints: 1,
      rejects: 0,
      bounceRatePercent: (10 / 300) * 100,
      complaintRatePercent: (1 / 300) * 100,
    })
    expect(summary.last14Days).toEqual({
      deliveryAttempts: 2_100,
      bounces: 58,
      complaints: 3,
      rejects: 4,
      bounceRatePercent: (58 / 2_100) * 100,
      complaintRatePercent: (3 / 2_100) * 100,
    })
    expect(summary.quotaUsedPercent).toBe(2)
    expect(summary).toMatchObject({
      max24HourSend: 50_000,
      unlimited: false,
      maxSendRate: 14,
      sentLast24Hours: 1_000,
    })
  })

  it('does not change the caller’s array', () => {
    const points = [point(ago(MINUTE)), point(ago(2 * MINUTE))]
    summarize(QUOTA, points, NOW)
    expect(points[0]?.timestamp.getTime()).toBe(ago(MINUTE))
  })

  it('takes empty statistics as a quiet account: zero totals, no rates', () => {
    const summary = summarize({ ...QUOTA, sentLast24Hours: 0 }, [], NOW)
    const none = {
      deliveryAttempts: 0,
      bounces: 0,
      complaints: 0,
      rejects: 0,
      bounceRatePercent: null,
      complaintRatePercent: null,
    }
    expect(summary.last24Hours).toEqual(none)
    expect(summary.last14Days).toEqual(none)
    expect(summary.quotaUsedPercent).toBe(0)
    expect(crossedThresholds(summary, DEFAULT_THRESHOLDS)).toEqual([])
  })

  it('gives no rate for a window with points but zero delivery attempts', () => {
    const summary = summarize(QUOTA, [point(ago(MINUTE), { rejects: 5 })], NOW)
    expect(summary.last24Hours).toMatchObject({ deliveryAttempts: 0, rejects: 5, bounceRatePercent: null })
    expect(summary.last24Hours.complaintRatePercent).toBeNull()
  })

  it('reads Max24HourSend -1 as unlimited: no quota used, never an alert', () => {
    const summary = summarize({ max24HourSend: -1, maxSendRate: 200, sentLast24Hours: 5_000_000 }, [], NOW)
    expect(summary).toMatchObject({ unlimited: true, max24HourSend: -1, quotaUsedPercent: null })
    expect(crossedThresholds(summary, { ...DEFAULT_THRESHOLDS, quotaUsedPercent: 1 })).toEqual([])
  })

  it('reads a quota of 0 as used up, not as a division by zero', () => {
    expect(summarize({ ...QUOTA, max24HourSend: 0, sentLast24Hours: 0 }, [], NOW).quotaUsedPercent).toBe(100)
  })

  it('includes both window edges and nothing outside them', () => {
    const points = [
      point(ago(DAY_MS), { deliveryAttempts: 1 }), // exactly now − 24 h: in
      point(ago(DAY_MS) - 1, { deliveryAttempts: 10 }), // 1 ms earlier: out of 24 h, in 14 d
      point(NOW, { deliveryAttempts: 100 }), // exactly now: in
      point(NOW.getTime() + 1, { deliveryAttempts: 1_000 }), // after now: out
      point(ago(14 * DAY_MS), { deliveryAttempts: 10_000 }), // exactly now − 14 d: in
      point(ago(14 * DAY_MS) - 1, { deliveryAttempts: 100_000 }), // before: out
    ]
    const summary = summarize(QUOTA, points, NOW)
    expect(summary.last24Hours.deliveryAttempts).toBe(101)
    expect(summary.last14Days.deliveryAttempts).toBe(10_111)
    expect(summary.points).toHaveLength(6)
  })
})

describe('thresholds', () => {
  const withRates = (attempts: number, bounces: number, complaints: number, sent = 0) =>
    summarize(
      { ...QUOTA, sentLast24Hours: sent },
      [point(ago(2 * DAY_MS), { deliveryAttempts: attempts, bounces, complaints })],
      NOW,
    )

  it('defaults to SES’s review levels and 80% of the quota', () => {
    expect(DEFAULT_THRESHOLDS).toEqual({
      quotaUsedPercent: 80,
      bounceRatePercent: 5,
      complaintRatePercent: 0.1,
    })
  })

  it('crosses at the threshold itself, not just above it', () => {
    const crossed = crossedThresholds(withRates(1_000, 50, 1, 40_000), DEFAULT_THRESHOLDS)
    expect(crossed).toEqual([
      { threshold: 'quota-used', value: 80, limit: 80, window: 'last24Hours' },
      { threshold: 'bounce-rate', value: 5, limit: 5, window: 'last14Days' },
      { threshold: 'complaint-rate', value: 0.1, limit: 0.1, window: 'last14Days' },
    ])
  })

  it('stays quiet just below each threshold', () => {
    expect(crossedThresholds(withRates(10_000, 499, 9, 39_999), DEFAULT_THRESHOLDS)).toEqual([])
  })

  it('survives binary fractions: 9 bounces in 1,000 reach a 0.9% threshold', () => {
    const summary = withRates(1_000, 9, 0)
    expect(summary.last14Days.bounceRatePercent).toBeLessThan(0.9) // 0.8999999999999999
    const crossed = crossedThresholds(summary, { ...DEFAULT_THRESHOLDS, bounceRatePercent: 0.9 })
    expect(crossed.map((entry) => entry.threshold)).toEqual(['bounce-rate'])
  })

  it('judges rates over 14 days, so a quiet day’s single bounce does not alert', () => {
    const summary = summarize(
      QUOTA,
      [
        point(ago(5 * DAY_MS), { deliveryAttempts: 10_000, bounces: 10 }),
        point(ago(MINUTE), { deliveryAttempts: 4, bounces: 1 }),
      ],
      NOW,
    )
    expect(summary.last24Hours.bounceRatePercent).toBe(25)
    expect(crossedThresholds(summary, DEFAULT_THRESHOLDS)).toEqual([])
  })

  it('uses overridden thresholds', () => {
    const crossed = crossedThresholds(withRates(1_000, 20, 0, 30_000), {
      quotaUsedPercent: 50,
      bounceRatePercent: 2,
      complaintRatePercent: 0.5,
    })
    expect(crossed.map((entry) => [entry.threshold, entry.value])).toEqual([
      ['quota-used', 60],
      ['bounce-rate', 2],
    ])
  })
})

describe('what SES does at the next level', () => {
  const at = (threshold: 'bounce-rate' | 'complaint-rate' | 'quota-used', value: number) =>
    sesNextLevel({ threshold, value, limit: 1, window: 'last14Days' })

  it.each([
    ['bounce-rate', 3, /At a 5% bounce rate SES puts the account under review; at 10% it may pause/],
    ['bounce-rate', 6, /under review at a 5% bounce rate; at 10% it may pause/],
    ['bounce-rate', 10, /at or above 10%, the bounce rate at which SES may pause/],
    ['complaint-rate', 0.05, /At a 0.1% complaint rate SES puts the account under review; at 0.5%/],
    ['complaint-rate', 0.2, /under review at a 0.1% complaint rate; at 0.5% it may pause/],
    ['complaint-rate', 0.7, /at or above 0.5%/],
    ['quota-used', 85, /^At 100% SES refuses further messages/],
    ['quota-used', 100, /^The quota is used up/],
  ] as const)('%s at %s%%', (threshold, value, text) => {
    expect(at(threshold, value)).toMatch(text)
  })
})

describe('alert mail', () => {
  const summary = summarize(
    { ...QUOTA, sentLast24Hours: 41_000 },
    [point(ago(2 * DAY_MS), { deliveryAttempts: 2_000, bounces: 125, complaints: 1 })],
    NOW,
  )
  const crossed = crossedThresholds(summary, DEFAULT_THRESHOLDS)

  it('says what crossed, what SES does next, and every figure', () => {
    const [quota, bounce] = crossed
    if (quota === undefined || bounce === undefined) throw new Error('expected two crossed thresholds')
    const mail = alertMail([bounce], [quota], summary, 'eu-west-1')
    expect(mail.subject).toBe('[ses-bouncer] SES sending health alert in eu-west-1: bounce rate 6.25%')
    expect(mail.text).toContain(
      'Amazon SES sending health in eu-west-1 at 2026-03-14T09:07:00.000Z: one threshold was crossed.',
    )
    expect(mail.text).toContain('- Bounce rate (last 14 days): 6.25%, at or above the alert threshold of 5%')
    expect(mail.text).toContain(
      "SES puts an account under review at a 5% bounce rate; at 10% it may pause the account's sending.",
    )
    expect(mail.text).toContain(
      'Still crossed, alerted earlier today:\n- Daily quota used (last 24 hours): 82.00%',
    )
    expect(mail.text).toContain('Daily quota: 41,000 of 50,000 sent in the last 24 hours (82.00% used)')
    expect(mail.text).toContain('Maximum send rate: 14 per second')
    expect(mail.text).toContain(
      'Last 24 hours: 0 delivery attempts, 0 bounces (n/a), 0 complaints (n/a), 0 rejects',
    )
    expect(mail.text).toContain(
      'Last 14 days: 2,000 delivery attempts, 125 bounces (6.25%), 1 complaints (0.05%), 0 rejects',
    )
    expect(mail.text).toContain('at most one alert per threshold per UTC day')
  })

  it('names every threshold in the subject when several crossed', () => {
    expect(alertMail(crossed, [], summary, 'us-east-1').subject).toBe(
      '[ses-bouncer] SES sending health alert in us-east-1: daily quota used 82.00%, bounce rate 6.25%',
    )
  })

  it('formats small and missing percentages readably', () => {
    expect([formatPercent(null), formatPercent(0), formatPercent(0.004), formatPercent(0.1)]).toEqual([
      'n/a',
      '0.00%',
      '<0.01%',
      '0.10%',
    ])
  })
})

describe('once-a-day keys', () => {
  it('are per threshold and UTC day, and outlive their day', () => {
    const late = new Date('2026-03-14T23:59:59Z')
    const next = new Date('2026-03-15T00:00:00Z')
    expect(alertKey('bounce-rate', NOW)).toBe('ses-bouncer#sending-health#alert#bounce-rate#2026-03-14')
    expect(alertKey('bounce-rate', late)).toBe(alertKey('bounce-rate', NOW))
    expect(alertKey('bounce-rate', next)).not.toBe(alertKey('bounce-rate', NOW))
    expect(alertKey('quota-used', NOW)).not.toBe(alertKey('bounce-rate', NOW))
    expect(digestKey(NOW)).toBe('ses-bouncer#sending-health#digest#2026-03-14')
    expect(claimExpiry(NOW).toISOString()).toBe('2026-03-16T00:00:00.000Z')
  })
})

describe('digest model', () => {
  it('charts the 14 whole UTC days before today, bars against the busiest day', () => {
    const points = [
      point(new Date('2026-03-13T23:59:00Z'), { deliveryAttempts: 400, bounces: 40 }),
      point(new Date('2026-03-13T00:00:00Z'), { deliveryAttempts: 400 }),
      point(new Date('2026-03-14T00:00:00Z'), { deliveryAttempts: 9_999 }), // today: CSV only
      point(new Date('2026-02-28T10:00:00Z'), { deliveryAttempts: 200, complaints: 1 }),
      point(new Date('2026-02-27T23:59:59Z'), { deliveryAttempts: 7 }), // before the first day
    ]
    const digest = digestModel(summarize(QUOTA, points, NOW), DEFAULT_THRESHOLDS, 'us-east-1')
    expect(digest.days).toHaveLength(14)
    expect(digest.days[0]).toMatchObject({ day: '2026-02-28', barPercent: 25 })
    expect(digest.days[0]?.totals).toMatchObject({
      deliveryAttempts: 200,
      complaints: 1,
      complaintRatePercent: 0.5,
    })
    expect(digest.days[13]).toMatchObject({ day: '2026-03-13', barPercent: 100 })
    expect(digest.days[13]?.totals).toMatchObject({
      deliveryAttempts: 800,
      bounces: 40,
      bounceRatePercent: 5,
    })
    expect(digest.days.slice(1, 13).every((day) => day.barPercent === 0)).toBe(true)
    expect(digest.points).toHaveLength(5)
    expect(digest.subject).toBe(
      '[ses-bouncer] SES sending health digest for us-east-1, 2026-02-28 to 2026-03-13',
    )
  })

  it('has all-empty bars for an account that sent nothing', () => {
    const digest = digestModel(summarize(QUOTA, [], NOW), DEFAULT_THRESHOLDS, 'us-east-1')
    expect(digest.days.map((day) => day.barPercent)).toEqual(Array(14).fill(0))
    expect(renderDigest(digest).csv.content).toBe(`${CSV_HEADER}\r\n`)
  })
})

describe('digest mail', () => {
  const points = [
    point(new Date('2026-03-13T14:13:00Z'), {
      deliveryAttempts: 3_000,
      bounces: 900,
      complaints: 4,
      rejects: 1,
    }),
    point(new Date('2026-03-02T09:58:00Z'), { deliveryAttempts: 120, bounces: 1 }),
    point(new Date('2026-03-13T14:28:00Z'), { deliveryAttempts: 2_500, bounces: 700 }),
  ]
  const digest = digestModel(summarize(QUOTA, points, NOW), DEFAULT_THRESHOLDS, 'us-east-1')
  let parsed: ParsedMail

  async function parse(): Promise<ParsedMail> {
    parsed ??= await simpleParser(
      await composeDigestMessage({
        from: 'health@example.com',
        to: ['ops@example.com', 'cto@example.com'],
        digest,
      }),
    )
    return parsed
  }

  it('has the headers, an HTML part and a plain-text part', async () => {
    const mail = await parse()
    expect(mail.subject).toBe(digest.subject)
    expect(mail.from?.text).toBe('health@example.com')
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value.map((a) => a.address) : []).toEqual([
      'ops@example.com',
      'cto@example.com',
    ])
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated')
    expect(mail.html).toContain('<table role="presentation"')
    expect(mail.text).toContain('Delivery attempts per day')
    expect(mail.text).toContain(
      '2026-03-13 ########################################     5,500 attempts, bounces 29.09%',
    )
  })

  it('draws the bars with HTML and CSS only: no images, scripts, style sheets or remote content', async () => {
    const html = (await parse()).html || ''
    expect(html).not.toMatch(/<img|<script|<link|<style|url\(|src=/i)
    expect(html).toMatch(
      /<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;"><tr><td width="29%" height="14" bgcolor="#c0392b"/,
    )
    expect(html).toMatch(
      /<table role="presentation" width="2%"[^>]*><tr><td width="1%" height="14" bgcolor="#c0392b"/,
    )
    expect(html).toContain('Alert thresholds crossed')
    expect(html).toContain('Bounce rate (last 14 days): 28.49%')
    // 12 of the 14 days had no mail: no bar, just the figures
    expect(html.match(/<td style="padding:3px 0;">&nbsp;<\/td>/g)).toHaveLength(12)
  })

  it('attaches the 15-minute points as CSV, oldest first', async () => {
    const mail = await parse()
    expect(mail.attachments).toHaveLength(1)
    const [csv] = mail.attachments
    expect(csv?.filename).toBe('ses-send-statistics-us-east-1-2026-03-14.csv')
    expect(csv?.contentType).toBe('text/csv')
    expect(csv?.content.toString('utf8').split('\r\n')).toEqual([
      'timestamp,delivery_attempts,bounces,complaints,rejects',
      '2026-03-02T09:58:00Z,120,1,0,0',
      '2026-03-13T14:13:00Z,3000,900,4,1',
      '2026-03-13T14:28:00Z,2500,700,0,0',
      '',
    ])
  })

  it('writes CSV rows for every point, even ones outside the chart', () => {
    expect(pointsCsv([point(NOW, { deliveryAttempts: 1 })])).toBe(
      `${CSV_HEADER}\r\n2026-03-14T09:07:00Z,1,0,0,0\r\n`,
    )
  })
})

describe('SES results in domain words', () => {
  it('maps GetSendQuota, keeping -1', () => {
    expect(quotaFromSes({ Max24HourSend: -1, MaxSendRate: 14, SentLast24Hours: 3 })).toEqual({
      max24HourSend: -1,
      maxSendRate: 14,
      sentLast24Hours: 3,
    })
  })

  it('refuses a GetSendQuota result without a quota', () => {
    expect(() => quotaFromSes({ MaxSendRate: 1 })).toThrow(/Max24HourSend/)
  })

  it('maps points, leaving out those without a timestamp', () => {
    expect(
      dataPointsFromSes({
        SendDataPoints: [
          { Timestamp: new Date('2026-03-01T00:13:00Z'), DeliveryAttempts: 5, Bounces: 1 },
          { DeliveryAttempts: 9 },
        ],
      }),
    ).toEqual([point(new Date('2026-03-01T00:13:00Z'), { deliveryAttempts: 5, bounces: 1 })])
    expect(dataPointsFromSes({})).toEqual([])
  })
})

describe('loadQuotaConfig', () => {
  it('has defaults for everything', () => {
    const config = loadQuotaConfig({})
    expect(config).toMatchObject({
      region: 'us-east-1',
      thresholds: DEFAULT_THRESHOLDS,
      warnings: [expect.stringMatching(/ALERT_EMAIL_TO is not set/)],
    })
    expect(config.mail).toBeUndefined()
    expect(config.idempotencyTable).toBeUndefined()
  })

  it('reads thresholds, recipients, configuration set and tags', () => {
    const config = loadQuotaConfig({
      QUOTA_ALERT_PERCENT: '90',
      BOUNCE_RATE_ALERT_PERCENT: ' 2.5 ',
      COMPLAINT_RATE_ALERT_PERCENT: '0.05',
      ALERT_EMAIL_TO: 'ops@example.com, oncall@example.com',
      ALERT_EMAIL_FROM: 'health@example.com',
      DIGEST_EMAIL_TO: 'team@example.com',
      SES_CONFIGURATION_SET: 'ops-mail',
      ALERT_EMAIL_TAGS: 'app=ses-bouncer, kind=health',
      IDEMPOTENCY_TABLE: 'ses-bouncer-idempotency',
      AWS_REGION: 'eu-west-1',
    })
    expect(config).toEqual({
      region: 'eu-west-1',
      thresholds: { quotaUsedPercent: 90, bounceRatePercent: 2.5, complaintRatePercent: 0.05 },
      mail: {
        from: 'health@example.com',
        configurationSet: 'ops-mail',
        tags: [
          { name: 'app', value: 'ses-bouncer' },
          { name: 'kind', value: 'health' },
        ],
        alertTo: ['ops@example.com', 'oncall@example.com'],
        digestTo: ['team@example.com'],
      },
      idempotencyTable: 'ses-bouncer-idempotency',
      warnings: [],
    })
  })

  it('warns that once a day holds per container without a table', () => {
    const config = loadQuotaConfig({ ALERT_EMAIL_TO: 'ops@example.com', ALERT_EMAIL_FROM: 'h@example.com' })
    expect(config.warnings).toEqual([
      expect.stringMatching(/IDEMPOTENCY_TABLE is not set: "once a day" .* per warm container only/),
    ])
  })

  it('lists every problem in one ConfigError', () => {
    let error: unknown
    try {
      loadQuotaConfig({
        QUOTA_ALERT_PERCENT: 'eighty',
        BOUNCE_RATE_ALERT_PERCENT: '0',
        COMPLAINT_RATE_ALERT_PERCENT: '101',
        ALERT_EMAIL_TO: 'ops@example.com, not-an-address',
        DIGEST_EMAIL_TO: 'team@example.com',
        SES_CONFIGURATION_SET: 'has space',
        ALERT_EMAIL_TAGS: 'ok=1,bad,x=y=z,sp ace=v',
      })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    const problems = (error as ConfigError).problems.map((problem) => problem.path)
    expect(problems).toEqual([
      'QUOTA_ALERT_PERCENT',
      'BOUNCE_RATE_ALERT_PERCENT',
      'COMPLAINT_RATE_ALERT_PERCENT',
      'ALERT_EMAIL_TO[1]',
      'SES_CONFIGURATION_SET',
      'ALERT_EMAIL_TAGS',
      'ALERT_EMAIL_TAGS',
      'ALERT_EMAIL_TAGS',
      'ALERT_EMAIL_FROM',
    ])
    expect((error as Error).message).toMatch(/^Invalid quota handler environment \(9 problems\)/)
    expect((error as Error).message).toContain("ALERT_EMAIL_TAGS: 'bad' is not name=value")
    expect((error as Error).message).toContain('QUOTA_ALERT_PERCENT: expected a percentage such as 5 or 0.1')
  })
})

describe('the demo summary', () => {
  it('summarizes events/send-statistics.json offline: its bounce spike crosses the bounce and quota thresholds', async () => {
    const text = await sendingHealthSummary()
    expect(text).toContain('1,344 unsorted 15-minute points')
    expect(text).toContain('Daily quota: 85,041 of 100,000 sent in the last 24 hours (85.04% used)')
    expect(text).toContain('Last 14 days: 336,755 delivery attempts, 21,082 bounces (6.26%)')
    expect(text).toContain('- Bounce rate (last 14 days): 6.26%, at or above the alert threshold of 5%')
    expect(text).toContain('- Daily quota used (last 24 hours): 85.04%')
    expect(text).not.toContain('Complaint rate (last 14 days)')
    expect(text.split('\n').filter((line) => /^ {2}\d{4}-\d{2}-\d{2} /.test(line))).toHaveLength(14)
  })
})
