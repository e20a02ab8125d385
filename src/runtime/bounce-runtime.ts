import { readFileSync } from 'node:fs'
import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics } from '@aws-lambda-powertools/metrics'
import { S3Client } from '@aws-sdk/client-s3'
import { SESClient } from '@aws-sdk/client-ses'
import type { Context } from 'aws-lambda'
import { DirectoryMessageSource } from '../adapters/directory-message-source.js'
import { S3MessageSource } from '../adapters/s3-message-source.js'
import { SesBounceSender } from '../adapters/ses-bounce-sender.js'
import { invalidEvent, receivedMessageFrom, type SesReceiptEvent } from '../adapters/ses-event.js'
import { makeProcessInbound, type ProcessInbound } from '../app/process-inbound.js'
import { type Config, loadConfig, type MessageStore } from '../config/load-config.js'
import type { MessageSource } from '../ports/index.js'
import { logOutcome, recordOutcomeMetrics } from './report-outcome.js'

export const SERVICE_NAME = 'ses-bouncer'
export const METRICS_NAMESPACE = 'SesBouncer'

/** Time kept back from the invocation's deadline to log the outcome and return. */
const DEADLINE_MARGIN_MS = 1_500
/** SES gives a RequestResponse invocation 30 s in all, whatever the function's own timeout. */
const REQUEST_RESPONSE_BUDGET_MS = 30_000

export type ParsedEvent = { success: true; data: SesReceiptEvent } | { success: false; error: Error }

type Env = Readonly<Record<string, string | undefined>>

export interface BounceRuntime {
  readonly config: Config
  readonly logger: Logger
  readonly metrics: Metrics
  /** Takes the parser middleware's safe-parse result so a malformed event gets a clear error. */
  handleReceipt(parsed: ParsedEvent, context: Context): Promise<{ disposition: string }>
}

/**
 * The composition root, run once per cold start: configuration (or one error listing every
 * problem), clients, and the use case. Nothing here runs per message.
 */
export function createBounceRuntime(env: Env = process.env): BounceRuntime {
  const logger = new Logger({ serviceName: SERVICE_NAME })
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME })
  let config: Config
  try {
    config = loadConfig(env, { readText: (path) => readFileSync(path, 'utf8') })
  } catch (error) {
    logger.error('refusing to start: invalid configuration', { error })
    throw error
  }
  for (const warning of config.warnings) logger.warn(warning)

  const ses = new SESClient({ region: config.region })
  const processInbound: ProcessInbound = makeProcessInbound({
    ruleSet: config.ruleSet,
    bounceSender: new SesBounceSender(ses),
    messageSource: messageSourceFor(config.messageStore, config.region, env),
    now: () => new Date(),
  })

  return {
    config,
    logger,
    metrics,
    async handleReceipt(parsed, context) {
      const started = performance.now()
      if (!parsed.success) {
        const error = invalidEvent(parsed.error)
        logger.error('rejected a malformed SES event; nothing was read or sent', { problems: error.problems })
        throw error
      }
      const message = await receivedMessageFrom(parsed.data)
      logger.appendKeys({ messageId: message.messageId })
      const budget =
        message.invocationType === 'RequestResponse'
          ? Math.min(context.getRemainingTimeInMillis(), REQUEST_RESPONSE_BUDGET_MS)
          : context.getRemainingTimeInMillis()
      const signal = AbortSignal.timeout(Math.max(budget - DEADLINE_MARGIN_MS, 1))
      const outcome = await processInbound(message, signal)
      logOutcome(logger, outcome, performance.now() - started)
      recordOutcomeMetrics(metrics, outcome)
      return { disposition: outcome.disposition }
    },
  }
}

function messageSourceFor(
  store: MessageStore | undefined,
  region: string,
  env: Env,
): MessageSource | undefined {
  if (store === undefined) return undefined
  if (store.kind === 'directory') return new DirectoryMessageSource(store.directory)
  // Local S3 stand-ins answer on a path, not on bucket subdomains of 127.0.0.1.
  const s3 = new S3Client({ region, forcePathStyle: usesLocalEndpoint(env) })
  return new S3MessageSource(s3, store.bucket, store.prefix)
}

function usesLocalEndpoint(env: Env): boolean {
  return Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL)
}
