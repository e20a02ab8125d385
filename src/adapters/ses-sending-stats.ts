import {
  GetSendQuotaCommand,
  type GetSendQuotaCommandOutput,
  GetSendStatisticsCommand,
  type GetSendStatisticsCommandOutput,
  type SESClient,
} from '@aws-sdk/client-ses'
import type { SendDataPoint, SendQuota } from '../domain/sending-health.js'
import { type SendingStats, SendingStatsUnavailableError } from '../ports/sending-health.js'
import { describeAwsError } from './aws-errors.js'

/** SES v1 GetSendQuota and GetSendStatistics (SESv2 has no per-15-minute statistics). */
export class SesSendingStats implements SendingStats {
  constructor(private readonly ses: SESClient) {}

  async quota(signal: AbortSignal): Promise<SendQuota> {
    let output: GetSendQuotaCommandOutput
    try {
      output = await this.ses.send(new GetSendQuotaCommand({}), { abortSignal: signal })
    } catch (error) {
      throw new SendingStatsUnavailableError(`GetSendQuota: ${describeAwsError(error)}`, { cause: error })
    }
    return quotaFromSes(output)
  }

  async dataPoints(signal: AbortSignal): Promise<SendDataPoint[]> {
    let output: GetSendStatisticsCommandOutput
    try {
      output = await this.ses.send(new GetSendStatisticsCommand({}), { abortSignal: signal })
    } catch (error) {
      throw new SendingStatsUnavailableError(`GetSendStatistics: ${describeAwsError(error)}`, {
        cause: error,
      })
    }
    return dataPointsFromSes(output)
  }
}

type QuotaResult = Pick<GetSendQuotaCommandOutput, 'Max24HourSend' | 'MaxSendRate' | 'SentLast24Hours'>
type StatisticsResult = Pick<GetSendStatisticsCommandOutput, 'SendDataPoints'>

/** GetSendQuota's result in domain words. The SDK types every member optional; SES always sends them. */
export function quotaFromSes(result: QuotaResult): SendQuota {
  const { Max24HourSend, MaxSendRate, SentLast24Hours } = result
  if (!isNumber(Max24HourSend) || !isNumber(MaxSendRate)) {
    throw new SendingStatsUnavailableError(
      `GetSendQuota answered without Max24HourSend or MaxSendRate: ${JSON.stringify(result)}`,
    )
  }
  return {
    max24HourSend: Max24HourSend,
    maxSendRate: MaxSendRate,
    sentLast24Hours: isNumber(SentLast24Hours) ? SentLast24Hours : 0,
  }
}

/** GetSendStatistics' points in domain words; a point without a valid Timestamp cannot be placed and is left out. */
export function dataPointsFromSes(result: StatisticsResult): SendDataPoint[] {
  const points: SendDataPoint[] = []
  for (const point of result.SendDataPoints ?? []) {
    const timestamp = point.Timestamp
    if (!(timestamp instanceof Date) || Number.isNaN(timestamp.getTime())) continue
    points.push({
      timestamp,
      deliveryAttempts: count(point.DeliveryAttempts),
      bounces: count(point.Bounces),
      complaints: count(point.Complaints),
      rejects: count(point.Rejects),
    })
  }
  return points
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

function count(value: number | undefined): number {
  return isNumber(value) && value > 0 ? value : 0
}
