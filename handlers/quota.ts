import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import { parser } from '@aws-lambda-powertools/parser/middleware'
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge'
import middy from '@middy/core'
import type { Context } from 'aws-lambda'
import { createQuotaRuntime, type ParsedScheduledEvent } from '../src/runtime/quota-runtime.js'
import type { SendingHealthResult } from '../src/runtime/report-sending-health.js'

/** EventBridge schedule → sending health. Configuration is checked here, once, at cold start. */
const runtime = createQuotaRuntime(process.env)

export const handler = middy<ParsedScheduledEvent, SendingHealthResult, Error, Context>()
  .use(injectLambdaContext(runtime.logger, { resetKeys: true }))
  .use(logMetrics(runtime.metrics, { captureColdStartMetric: true }))
  // safeParse: a malformed event is logged and the report still runs (see handleSchedule).
  .use(parser({ schema: EventBridgeSchema, safeParse: true }))
  .handler((parsed, context) => runtime.handleSchedule(parsed, context))
