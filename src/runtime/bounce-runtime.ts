import { readFileSync } from 'node:fs'
import type { Logger } from '@aws-lambda-powertools/logger'
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import type { Context } from 'aws-lambda'
import { DirectoryMessageSource } from '../adapters/directory-message-source.js'
import {
  InvalidEventError,
  invalidEvent,
  receivedMessageFrom,
  type SesReceiptEvent,
} from '../adapters/ses-event.js'
import { type InboundOutcome, makeProcessInbound, type ProcessInbound } from '../app/process-inbound.js'
import {
  formatOf,
  loadFileRules,
  loadSettings,
  type MessageStore,
  type Settings,
} from '../config/load-config.js'
import { ConfigError } from '../config/problems.js'
import type { ReceivedMessage } from '../domain/message.js'
import type { RuleSet } from '../domain/rule-set.js'
import type { MessageSource } from '../ports/index.js'
import {
  lazyDynamoLedger,
  lazyS3MessageSource,
  lazySesBounceSender,
  lazySqsBounceQueue,
  loadYaml,
  onFirstUse,
} from './lazy-adapters.js'
import { logOutcome, recordOutcomeMetrics } from './report-outcome.js'
import {
  fixedRules,
  fixedRulesLoading,
  type RulesProvider,
  s3Rules,
  warnAboutRules,
} from './rules-provider.js'
import { DEADLINE_MARGIN_MS, type Env } from './service.js'
import { configuredOrRefuse, startTelemetry } from './start.js'

/** Counted once per SES event the handler could not use; the stack alarms on it. */
export const EVENTS_REJECTED_METRIC = 'EventsRejected'

/** SES gives a RequestResponse invocation 30 s in all, whatever the function's own timeout. */
const REQUEST_RESPONSE_BUDGET_MS = 30_000

export type ParsedEvent = { success: true; data: SesReceiptEvent } | { success: false; error: Error }

export interface BounceRuntime {
  readonly settings: Settings
  readonly logger: Logger
  readonly metrics: Metrics
  /** Takes the parser middleware's safe-parse result: an event it cannot use is logged and let through. */
  handleReceipt(parsed: ParsedEvent, context: Context): Promise<{ disposition: string }>
}

/**
 * The composition root, run once per cold start: configuration (or one error listing every
 * problem), clients, and the use case. Nothing here runs per message.
 */
export function createBounceRuntime(env: Env = process.env): BounceRuntime {
  const { problems, redactor, logger, metrics } = startTelemetry(env)
  const { settings, rules } = configuredOrRefuse(logger, (): { settings: Settings; rules: RulesProvider } => {
    const settings = loadSettings(env, problems)
    if (settings.rulesSource.kind === 'file' && formatOf(settings.rulesSource.path) === 'yaml') {
      // A YAML file (local runs: `serverless package` ships the rules compiled to JSON): the
      // parser is loaded with import(), so the invocation that awaits it gets any error.
      if (problems.length > 0) throw new ConfigError(problems)
      const fileSettings = settings
      const path = settings.rulesSource.path
      const rules = fixedRulesLoading(logger, path, async () => {
        const yaml = await loadYaml()
        return loadFileRules(fileSettings, { readText: (file) => readFileSync(file, 'utf8'), yaml }, [])
      })
      return { settings, rules }
    }
    if (settings.rulesSource.kind === 'file') {
      const loaded = loadFileRules(settings, { readText: (path) => readFileSync(path, 'utf8') }, problems)
      for (const warning of loaded.warnings) logger.warn(warning)
      warnAboutRules(logger, loaded.ruleSet, settings.rulesSource.path)
      return { settings, rules: fixedRules(loaded.ruleSet) }
    }
    if (problems.length > 0) throw new ConfigError(problems)
    for (const warning of settings.warnings) logger.warn(warning)
    const { bucket, key, refreshSeconds } = settings.rulesSource
    const { region } = settings
    const source = onFirstUse(async () => {
      const [{ S3RulesSource }, { s3Client }] = await Promise.all([
        import('../adapters/s3-rules-source.js'),
        import('../adapters/s3-client.js'),
      ])
      return new S3RulesSource(s3Client(region, env), bucket, key)
    })
    return { settings, rules: s3Rules(source, `s3://${bucket}/${key}`, refreshSeconds, settings, logger) }
  })

  const ledger =
    settings.idempotencyTable === undefined
      ? undefined
      : lazyDynamoLedger(settings.region, settings.idempotencyTable)
  const bounceSender = lazySesBounceSender(settings.region)
  const bounceQueue =
    settings.bounceQueueUrl === undefined
      ? undefined
      : lazySqsBounceQueue(settings.region, settings.bounceQueueUrl)
  const messageSource = messageSourceFor(settings.messageStore, settings.region, env)
  let current: { ruleSet: RuleSet; processInbound: ProcessInbound } | undefined
  const processInboundFor = (ruleSet: RuleSet): ProcessInbound => {
    if (current?.ruleSet !== ruleSet) {
      current = {
        ruleSet,
        processInbound: makeProcessInbound({
          ruleSet,
          bounceSender,
          ledger,
          bounceQueue,
          messageSource,
          now: () => new Date(),
        }),
      }
    }
    return current.processInbound
  }

  return {
    settings,
    logger,
    metrics,
    async handleReceipt(parsed, context) {
      const started = performance.now()
      const message = parsed.success ? await messageOf(parsed.data) : invalidEvent(parsed.error)
      if (message instanceof InvalidEventError) {
        // Fail open, whatever the invocation type: SES's handling of a failed RequestResponse
        // function is undocumented, and a retried Event cannot get any better.
        logger.error('SES event not usable: the message continues unbounced; nothing was read or sent', {
          problems: message.problems,
        })
        metrics.addMetric(EVENTS_REJECTED_METRIC, MetricUnit.Count, 1)
        return { disposition: 'CONTINUE' }
      }
      let ruleSet: RuleSet
      try {
        ruleSet = await rules()
      } catch (error) {
        logger.error('refusing to run: invalid configuration', { error })
        throw error
      }
      const processInbound = processInboundFor(ruleSet)
      ledger?.useLambdaContext(context)
      logger.appendKeys({ messageId: message.messageId })
      const budget =
        message.invocationType === 'RequestResponse'
          ? Math.min(context.getRemainingTimeInMillis(), REQUEST_RESPONSE_BUDGET_MS)
          : context.getRemainingTimeInMillis()
      const signal = AbortSignal.timeout(Math.max(budget - DEADLINE_MARGIN_MS, 1))
      let outcome: InboundOutcome
      try {
        outcome = await processInbound(message, signal)
      } catch (error) {
        // Event: Lambda retries the event and then hands it to the failure destination; the
        // bounce claim was released, so a retry can still send. RequestResponse: SES's handling of
        // a failed function is undocumented, so the mail is let through rather than risked.
        if (message.invocationType === 'Event') {
          logger.error('failed; leaving the event to Lambda retries', {
            error,
            sender: message.envelopeSender,
          })
          throw error
        }
        logger.error('failed; delivering the message unbounced', { error, sender: message.envelopeSender })
        metrics.addMetric('MessagesFailed', MetricUnit.Count, 1)
        return { disposition: 'CONTINUE' }
      }
      logOutcome(logger, outcome, performance.now() - started)
      recordOutcomeMetrics(metrics, outcome, redactor)
      return { disposition: outcome.disposition }
    },
  }
}

/** The event's facts, or the reason they cannot be had: nothing here may throw at SES. */
async function messageOf(event: SesReceiptEvent): Promise<ReceivedMessage | InvalidEventError> {
  try {
    return await receivedMessageFrom(event)
  } catch (error) {
    return new InvalidEventError([`(event): ${(error as Error).message}`], { cause: error })
  }
}

function messageSourceFor(
  store: MessageStore | undefined,
  region: string,
  env: Env,
): MessageSource | undefined {
  if (store === undefined) return undefined
  if (store.kind === 'directory') return new DirectoryMessageSource(store.directory)
  return lazyS3MessageSource(region, env, store.bucket, store.prefix)
}
