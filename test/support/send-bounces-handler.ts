import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { coldStart } from './cold-start.js'
import { type LogLine, lambdaContext } from './lambda.js'

export type SenderHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>

/**
 * A fresh cold start of handlers/send-bounces.ts with the given environment: its own runtime,
 * clients, pace and ledger objects, sharing nothing in memory with another cold start (as two
 * Lambda instances share nothing but the state table).
 */
export function coldStartSenderHandler(env: Record<string, string>): Promise<SenderHandler> {
  return coldStart<SenderHandler>(() => import('../../handlers/send-bounces.js'), {
    POWERTOOLS_METRICS_NAMESPACE: 'SesBouncerTest',
    AWS_LAMBDA_FUNCTION_NAME: 'ses-bouncer-test-sendBounces',
    DRY_RUN: 'false',
    ...env,
  })
}

export const senderContext = (timeoutMs = 60_000) => lambdaContext(timeoutMs, 'ses-bouncer-test-sendBounces')

/** The sender's per-bounce log lines (they carry `bounce.outcome`). */
export function bounceLines(lines: readonly LogLine[]): LogLine[] {
  return lines.filter(
    (line) => typeof (line.bounce as { outcome?: unknown } | undefined)?.outcome === 'string',
  )
}

export function outcomes(lines: readonly LogLine[]): string[] {
  return bounceLines(lines).map((line) => (line.bounce as { outcome: string }).outcome)
}
