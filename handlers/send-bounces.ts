import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import middy from '@middy/core'
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { createSenderRuntime } from '../src/runtime/sender-runtime.js'

/** Bounce queue (SQS event source, ReportBatchItemFailures) → paced SendBounce. Configuration is checked at cold start. */
const runtime = createSenderRuntime(process.env)

export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(injectLambdaContext(runtime.logger, { resetKeys: true }))
  .use(logMetrics(runtime.metrics, { captureColdStartMetric: true }))
  .handler((event, context) => runtime.handleBatch(event, context))
