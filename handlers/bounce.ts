import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import { parser } from '@aws-lambda-powertools/parser/middleware'
import middy from '@middy/core'
import type { Context } from 'aws-lambda'
import { SesReceiptEventSchema } from '../src/adapters/ses-event.js'
import { createBounceRuntime, type ParsedEvent } from '../src/runtime/bounce-runtime.js'

/** SES receipt rule → Lambda action. Configuration is checked here, once, at cold start. */
const runtime = createBounceRuntime(process.env)

export const handler = middy<ParsedEvent, { disposition: string }, Error, Context>()
  .use(injectLambdaContext(runtime.logger, { resetKeys: true }))
  .use(logMetrics(runtime.metrics, { captureColdStartMetric: true }))
  .use(parser({ schema: SesReceiptEventSchema, safeParse: true }))
  .handler((parsed, context) => runtime.handleReceipt(parsed, context))
