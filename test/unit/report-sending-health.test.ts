import { describe, expect, it } from 'vitest'
import { MemoryAlertState } from '../../src/adapters/memory-alert-state.js'
import { makeReportSendingHealth, type ReportSendingHealthDeps } from '../../src/app/report-sending-health.js'
import {
  type AlertMail,
  DAY_MS,
  DEFAULT_THRESHOLDS,
  type Digest,
  type SendDataPoint,
  type SendQuota,
} from '../../src/domain/sending-health.js'
import {
  type AlertState,
  AlertStateUnavailableError,
  NotificationFailedError,
  type Notifier,
  type SendingStats,
  SendingStatsUnavailableError,
} from '../../src/ports/sending-health.js'

const NOW = new Date('2026-03-14T09:07:00Z')
const HOUR_MS = 60 * 60 * 1000

class FakeStats implements SendingStats {
  failWith: Error | undefined
  constructor(
    public quotaValue: SendQuota,
    public points: SendDataPoint[],
  ) {}
  async quota(): Promise<SendQuota> {
    if (this.failWith) throw this.failWith
    return this.quotaValue
  }
  async dataPoints(): Promise<SendDataPoint[]> {
    return this.points
  }
}

class FakeNotifier implements Notifier {
  readonly alerts: { to: readonly string[]; mail: AlertMail }[] = []
  readonly digests: { to: readonly string[]; digest: Digest }[] = []
  failAlerts = 0
  failDigests = 0
  async sendAlert(to: readonly string[], mail: AlertMail): Promise<string> {
    if (this.failAlerts > 0) {
      this.failAlerts -= 1
      throw new NotificationFailedError('SendEmail (alert): MessageRejected (HTTP 400): not verified')
    }
    this.alerts.push({ to, mail })
    return `alert-${this.alerts.length}`
  }
  async sendDigest(to: readonly string[], digest: Digest): Promise<string> {
    if (this.failDigests > 0) {
      this.failDigests -= 1
      throw new Error('socket hang up')
    }
    this.digests.push({ to, digest })
    return `digest-${this.digests.length}`
  }
}

const HEALTHY: SendQuota = { max24HourSend: 50_000, maxSendRate: 14, sentLast24Hours: 1_000 }
const NEAR_QUOTA: SendQuota = { ...HEALTHY, sentLast24Hours: 45_000 }
const point = (at: number, deliveryAttempts: number, bounces = 0, complaints = 0): SendDataPoint => ({
  timestamp: new Date(at),
  deliveryAttempts,
  bounces,
  complaints,
  rejects: 0,
})
/** Two weeks at a 1% bounce rate. */
const CALM = [point(NOW.getTime() - 3 * DAY_MS, 10_000, 100), point(NOW.getTime() - HOUR_MS, 500, 5)]
/** The same with a spike: 14-day bounce rate 7%. */
const SPIKE = [...CALM, point(NOW.getTime() - 2 * HOUR_MS, 1_000, 700)]

function setup(
  options: { quota?: SendQuota; points?: SendDataPoint[]; alerts?: boolean; digest?: boolean } = {},
) {
  let now = NOW
  const stats = new FakeStats(options.quota ?? HEALTHY, options.points ?? CALM)
  const notifier = new FakeNotifier()
  const state = new MemoryAlertState(() => now)
  const deps = (alertState: AlertState = state): ReportSendingHealthDeps => ({
    stats,
    alertState,
    thresholds: DEFAULT_THRESHOLDS,
    region: 'us-east-1',
    ...(options.alerts === false ? {} : { alerts: { notifier, to: ['ops@example.com'] } }),
    ...(options.digest === true ? { digest: { notifier, to: ['team@example.com'] } } : {}),
    now: () => now,
  })
  const signal = new AbortController().signal
  return {
    stats,
    notifier,
    state,
    deps,
    run: (alertState?: AlertState) => makeReportSendingHealth(deps(alertState))(signal),
    advance(ms: number) {
      now = new Date(now.getTime() + ms)
      // The statistics move along with the clock.
      stats.points = stats.points.map((p) => ({ ...p, timestamp: new Date(p.timestamp.getTime() + ms) }))
    },
  }
}

describe('reportSendingHealth', () => {
  it('summarizes and sends nothing when all is well', async () => {
    const { run, notifier } = setup({ digest: false })
    const report = await run()
    expect(report.summary.quotaUsedPercent).toBe(2)
    expect(report.summary.last14Days.bounceRatePercent).toBe(1)
    expect(report.crossed).toEqual([])
    expect(report.alert).toEqual({ kind: 'none' })
    expect(report.digest).toEqual({ kind: 'off' })
    expect(notifier.alerts).toEqual([])
  })

  it('only reports a crossed threshold when no alert recipients are configured', async () => {
    const { run, notifier } = setup({ points: SPIKE, alerts: false })
    const report = await run()
    expect(report.crossed.map((entry) => entry.threshold)).toEqual(['bounce-rate'])
    expect(report.alert).toEqual({ kind: 'off' })
    expect(notifier.alerts).toEqual([])
  })

  it('alerts once per threshold per UTC day, and again the next day', async () => {
    const { run, notifier, advance } = setup({ points: SPIKE })
    expect((await run()).alert).toEqual({
      kind: 'sent',
      thresholds: ['bounce-rate'],
      alreadySent: [],
      messageId: 'alert-1',
    })
    expect(notifier.alerts[0]?.to).toEqual(['ops@example.com'])
    expect(notifier.alerts[0]?.mail.subject).toBe(
      '[ses-bouncer] SES sending health alert in us-east-1: bounce rate 7.00%',
    )

    advance(HOUR_MS)
    expect((await run()).alert).toEqual({ kind: 'already-sent', alreadySent: ['bounce-rate'] })
    advance(13 * HOUR_MS) // 2026-03-14T23:07Z
    expect((await run()).alert).toMatchObject({ kind: 'already-sent' })
    advance(HOUR_MS) // 2026-03-15T00:07Z: a new UTC day
    expect((await run()).alert).toMatchObject({ kind: 'sent', thresholds: ['bounce-rate'] })
    expect(notifier.alerts).toHaveLength(2)
  })

  it('alerts for a threshold newly crossed later the same day, naming the one alerted before', async () => {
    const { run, notifier, stats, advance } = setup({ points: SPIKE })
    await run()
    advance(HOUR_MS)
    stats.quotaValue = NEAR_QUOTA
    expect((await run()).alert).toEqual({
      kind: 'sent',
      thresholds: ['quota-used'],
      alreadySent: ['bounce-rate'],
      messageId: 'alert-2',
    })
    const text = notifier.alerts[1]?.mail.text ?? ''
    expect(text).toContain(
      '- Daily quota used (last 24 hours): 90.00%, at or above the alert threshold of 80%',
    )
    expect(text).toContain('Still crossed, alerted earlier today:\n- Bounce rate (last 14 days): 7.00%')
  })

  it('puts every threshold crossed at once in one mail', async () => {
    const { run, notifier } = setup({ quota: NEAR_QUOTA, points: SPIKE })
    expect((await run()).alert).toMatchObject({ kind: 'sent', thresholds: ['quota-used', 'bounce-rate'] })
    expect(notifier.alerts).toHaveLength(1)
  })

  it('sends one alert when two runs race for the same day', async () => {
    const { run, notifier } = setup({ points: SPIKE })
    const outcomes = await Promise.all([run(), run(), run()])
    expect(outcomes.map((report) => report.alert.kind).sort()).toEqual([
      'already-sent',
      'already-sent',
      'sent',
    ])
    expect(notifier.alerts).toHaveLength(1)
  })

  it('gives the claim back when the alert cannot be sent, so the next run sends it', async () => {
    const { run, notifier, advance } = setup({ points: SPIKE })
    notifier.failAlerts = 1
    const failed = await run()
    expect(failed.alert).toMatchObject({ kind: 'failed', thresholds: ['bounce-rate'] })
    expect(failed.alert.kind === 'failed' && failed.alert.error).toBeInstanceOf(NotificationFailedError)
    expect(failed.alert.kind === 'failed' && failed.alert.error.message).toMatch(/MessageRejected/)
    advance(HOUR_MS)
    expect((await run()).alert).toMatchObject({ kind: 'sent', thresholds: ['bounce-rate'] })
    expect(notifier.alerts).toHaveLength(1)
  })

  it('says so when a claim cannot be given back', async () => {
    const { run, notifier, state } = setup({ points: SPIKE })
    notifier.failAlerts = 1
    const stuck: AlertState = {
      claim: (key, expiresAt) => state.claim(key, expiresAt),
      release: async () => {
        throw new Error('ProvisionedThroughputExceededException')
      },
    }
    const report = await run(stuck)
    expect(report.alert.kind === 'failed' && report.alert.error.message).toMatch(
      /^sending the alert: SendEmail \(alert\): MessageRejected .*; could not release ses-bouncer#sending-health#alert#bounce-rate#2026-03-14 \(ProvisionedThroughputExceededException\), so no retry today$/,
    )
  })

  it('fails the alert, sending nothing, when the once-a-day state is unavailable', async () => {
    const { run, notifier } = setup({ points: SPIKE })
    const down: AlertState = {
      claim: async () => {
        throw new Error('ECONNREFUSED')
      },
      release: async () => undefined,
    }
    const report = await run(down)
    expect(report.alert).toMatchObject({ kind: 'failed', thresholds: ['bounce-rate'] })
    expect(report.alert.kind === 'failed' && report.alert.error).toBeInstanceOf(AlertStateUnavailableError)
    expect(notifier.alerts).toEqual([])
  })

  it('throws SendingStatsUnavailableError, sending nothing, when the statistics cannot be read', async () => {
    const { run, stats, notifier } = setup({ points: SPIKE, digest: true })
    stats.failWith = new Error('GetSendQuota: Throttling (HTTP 400): Rate exceeded')
    await expect(run()).rejects.toThrow(SendingStatsUnavailableError)
    await expect(run()).rejects.toThrow(/reading the sending statistics: GetSendQuota: Throttling/)
    expect(notifier.alerts).toEqual([])
    expect(notifier.digests).toEqual([])
  })

  it('treats empty statistics and an unlimited quota as a quiet, healthy account', async () => {
    const { run } = setup({ quota: { max24HourSend: -1, maxSendRate: 100, sentLast24Hours: 0 }, points: [] })
    const report = await run()
    expect(report.summary).toMatchObject({ unlimited: true, quotaUsedPercent: null })
    expect(report.summary.last14Days.bounceRatePercent).toBeNull()
    expect(report.alert).toEqual({ kind: 'none' })
  })
})

describe('daily digest', () => {
  it('goes out once per UTC day, whether or not a threshold is crossed', async () => {
    const { run, notifier, advance } = setup({ digest: true })
    expect((await run()).digest).toEqual({ kind: 'sent', day: '2026-03-14', messageId: 'digest-1' })
    expect(notifier.digests[0]?.to).toEqual(['team@example.com'])
    expect(notifier.digests[0]?.digest.days).toHaveLength(14)
    advance(HOUR_MS)
    expect((await run()).digest).toEqual({ kind: 'already-sent', day: '2026-03-14' })
    advance(DAY_MS)
    expect((await run()).digest).toMatchObject({ kind: 'sent', day: '2026-03-15' })
    expect(notifier.digests).toHaveLength(2)
  })

  it('is retried by the next run after a failure, independently of the alert', async () => {
    const { run, notifier, advance } = setup({ points: SPIKE, digest: true })
    notifier.failDigests = 1
    const first = await run()
    expect(first.alert).toMatchObject({ kind: 'sent' })
    expect(first.digest).toMatchObject({ kind: 'failed', day: '2026-03-14' })
    expect(first.digest.kind === 'failed' && first.digest.error.message).toBe(
      'sending the digest: socket hang up',
    )
    advance(HOUR_MS)
    const second = await run()
    expect(second.alert).toMatchObject({ kind: 'already-sent' })
    expect(second.digest).toMatchObject({ kind: 'sent' })
  })
})
