import type { Logger } from '@aws-lambda-powertools/logger'
import type { Metrics } from '@aws-lambda-powertools/metrics'
import type { SESClient } from '@aws-sdk/client-ses'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { Context } from 'aws-lambda'
import { DynamoAlertState } from '../adapters/dynamo-alert-state.js'
import { dynamoClient } from '../adapters/dynamo-client.js'
import { MemoryAlertState } from '../adapters/memory-alert-state.js'
import { sesClient } from '../adapters/ses-client.js'
import { SesNotifier } from '../adapters/ses-notifier.js'
import { SesSendingStats } from '../adapters/ses-sending-stats.js'
import {
  makeReportSendingHealth,
  type ReportSendingHealth,
  type ReportSendingHealthDeps,
  type SendingHealthReport,
} from '../app/report-sending-health.js'
import { loadQuotaConfig, type QuotaConfig, type QuotaMailConfig } from '../config/quota-config.js'
import { type AlertState, NotificationFailedError } from '../ports/sending-health.js'
import {
  logSendingHealth,
  recordSendingHealthMetrics,
  type SendingHealthResult,
  sendingHealthResult,
} from './report-sending-health.js'
import { DEADLINE_MARGIN_MS, type Env } from './service.js'
import { configuredOrRefuse, startTelemetry } from './start.js'

export type ParsedScheduledEvent = { success: true; data: unknown } | { success: false; error: Error }

export interface QuotaRuntime {
  readonly config: QuotaConfig
  readonly logger: Logger
  readonly metrics: Metrics
  handleSchedule(parsed: ParsedScheduledEvent, context: Context): Promise<SendingHealthResult>
}

/** The composition root, run once per cold start: configuration (or one error listing every problem), clients, use case. */
export function createQuotaRuntime(env: Env = process.env): QuotaRuntime {
  const { problems, redactor, logger, metrics } = startTelemetry(env)
  const config = configuredOrRefuse(logger, () => loadQuotaConfig(env, problems))
  for (const warning of config.warnings) logger.warn(warning)

  // Bounded calls with retries (aws-clients.ts); the invocation's abort signal caps them all.
  const ses = sesClient(config.region)
  const reportSendingHealth: ReportSendingHealth = makeReportSendingHealth({
    stats: new SesSendingStats(ses),
    alertState: alertStateFor(config),
    thresholds: config.thresholds,
    region: config.region,
    ...mailDeps(ses, config.mail),
    now: () => new Date(),
  })

  return {
    config,
    logger,
    metrics,
    async handleSchedule(parsed, context) {
      const started = performance.now()
      if (!parsed.success) {
        // Lenient: the schedule's event carries nothing the report needs, so a hand-made or
        // reshaped event still runs the report; the mismatch is worth a line, not a failure.
        logger.warn('the event is not an EventBridge scheduled event; reporting anyway', {
          problem: parsed.error.message,
        })
      }
      const signal = AbortSignal.timeout(Math.max(context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS, 1))
      let report: SendingHealthReport
      try {
        report = await reportSendingHealth(signal)
      } catch (error) {
        // The scheduled invocation is asynchronous: throwing lets Lambda retry it, and the next
        // hour's run tries again in any case.
        logger.error('SES sending health not reported: the statistics could not be read', { error })
        throw error
      }
      logSendingHealth(logger, report, config, performance.now() - started)
      recordSendingHealthMetrics(metrics, report)
      const failures = [report.alert, report.digest].flatMap((outcome) =>
        outcome.kind === 'failed' ? [outcome.error] : [],
      )
      if (failures.length > 0) {
        // Lambda logs a thrown error itself, outside Powertools: its message gets the same redaction.
        throw new NotificationFailedError(redactor.text(failures.map((error) => error.message).join('; ')), {
          cause: failures.length === 1 ? failures[0] : new AggregateError(failures),
        })
      }
      return sendingHealthResult(report)
    },
  }
}

function mailDeps(
  ses: SESClient,
  mail: QuotaMailConfig | undefined,
): Pick<ReportSendingHealthDeps, 'alerts' | 'digest'> {
  if (mail === undefined) return {}
  const notifier = new SesNotifier(ses, mail)
  return {
    ...(mail.alertTo.length === 0 ? {} : { alerts: { notifier, to: mail.alertTo } }),
    ...(mail.digestTo.length === 0 ? {} : { digest: { notifier, to: mail.digestTo } }),
  }
}

function alertStateFor(config: QuotaConfig): AlertState {
  if (config.idempotencyTable === undefined) return new MemoryAlertState()
  const dynamo = DynamoDBDocumentClient.from(dynamoClient(config.region))
  return new DynamoAlertState(dynamo, config.idempotencyTable)
}
