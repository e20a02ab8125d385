import type { Context } from 'aws-lambda'

/** A Lambda context with a real deadline, as the runtime would pass it. */
export function lambdaContext(timeoutMs = 30_000, functionName = 'ses-bouncer-test-bounce'): Context {
  const deadline = Date.now() + timeoutMs
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `req-${Math.random().toString(36).slice(2)}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}

export type LogLine = Record<string, unknown> & { level?: string; message?: string }

/**
 * Captures what the process writes to stdout and stderr (Powertools' JSON log lines, ERROR ones
 * on stderr, and EMF metrics) while a test runs, and keeps it off the test output.
 */
export function captureOutput(): { lines(): LogLine[]; text(): string; restore(): void } {
  const chunks: string[] = []
  const streams = [process.stdout, process.stderr] as const
  const originals = streams.map((stream) => stream.write)
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined
      callback?.()
      return true
    }) as typeof stream.write
  }
  const text = () => chunks.join('')
  return {
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as LogLine),
    restore: () => {
      streams.forEach((stream, index) => {
        stream.write = originals[index] as typeof stream.write
      })
    },
  }
}

/** Every metric value the invocation emitted (CloudWatch embedded metric format lines), by name. */
export function emittedMetrics(lines: readonly LogLine[]): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  for (const line of lines) {
    const aws = line._aws as { CloudWatchMetrics?: { Metrics: { Name: string }[] }[] } | undefined
    for (const directive of aws?.CloudWatchMetrics ?? []) {
      for (const metric of directive.Metrics) values[metric.Name] = line[metric.Name]
    }
  }
  return values
}

/** Anything shaped like a mail address (not a package path such as node_modules/@aws-sdk/core). */
export const AN_ADDRESS = /[\p{L}\p{N}!#$%&'*+=?^_`{|}~.-]+@[\p{L}\p{N}-]+\.[\p{L}\p{N}.-]+/u
