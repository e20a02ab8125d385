import { join } from 'node:path'
import { coldStart } from './cold-start.js'
import { EVENTS_DIR, type SesEvent } from './events.js'
import { captureOutput, type LogLine, lambdaContext } from './lambda.js'

export type BounceHandler = (
  event: SesEvent,
  context: ReturnType<typeof lambdaContext>,
) => Promise<{ disposition: string }>

/**
 * A fresh cold start of handlers/bounce.ts with the given environment, as Lambda would load it in
 * a new container: each call gets its own runtime, clients and configuration.
 */
export function coldStartBounceHandler(
  env: Record<string, string>,
  coldStartLines: LogLine[] = [],
): Promise<BounceHandler> {
  return coldStart<BounceHandler>(
    () => import('../../handlers/bounce.js'),
    {
      RULES_FILE: join(EVENTS_DIR, 'bounce-rules.yml'),
      POWERTOOLS_METRICS_NAMESPACE: 'SesBouncerTest',
      AWS_LAMBDA_FUNCTION_NAME: 'ses-bouncer-test-bounce',
      ...env,
    },
    coldStartLines,
  )
}

export interface Invocation {
  result?: { disposition: string }
  error?: Error
  lines: LogLine[]
}

/** Invokes with the log lines captured; a thrown error is returned, not rethrown. */
export async function invokeBounce(
  handler: BounceHandler,
  event: SesEvent,
  context = lambdaContext(),
): Promise<Invocation> {
  const output = captureOutput()
  try {
    return { result: await handler(event, context), lines: output.lines() }
  } catch (error) {
    return { error: error as Error, lines: output.lines() }
  } finally {
    output.restore()
  }
}

export function outcomeLine(lines: readonly LogLine[]): LogLine {
  const line = lines.find((entry) => Array.isArray(entry.recipients))
  if (line === undefined) throw new Error(`no outcome line in ${JSON.stringify(lines)}`)
  return line
}
