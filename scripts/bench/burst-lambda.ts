// One Lambda container for `npm run bench:burst`: a process that loads one packaged function
// (its init phase) and then runs one invocation at a time, as Lambda runs a container. Started by
// burst.ts with the job as JSON in argv[2], the function's environment and working directory set
// by the parent; invocations arrive and results leave over IPC. What the function logs goes to
// a file; the per-message outcome lines are also sent back, summarised.

import { createWriteStream } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { Context } from 'aws-lambda'

export interface ContainerJob {
  readonly module: string
  readonly exportName: string
  readonly functionName: string
  readonly timeoutSeconds: number
  readonly logFile: string
}

export type Invocation = { readonly kind: 'invoke'; readonly id: number; readonly event: unknown }

export interface InvocationResult {
  readonly id: number
  readonly durationMs: number
  /** CPU time the container spent on it: what the duration would shrink to with a core of its own. */
  readonly cpuMs: number
  readonly response?: unknown
  readonly error?: string
  /** `bounce.outcome` of each message line the invocation logged, with its SES message id. */
  readonly outcomes: readonly { readonly messageId: string; readonly outcome: string }[]
}

const job = JSON.parse(process.argv[2] ?? '') as ContainerJob
const log = createWriteStream(job.logFile)
let lines: string[] = []
let partial = ''
const write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
  log.write(text)
  const parts = (partial + text).split('\n')
  partial = parts.pop() ?? ''
  lines.push(...parts)
  const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined
  callback?.()
  return true
}
process.stdout.write = write as typeof process.stdout.write
process.stderr.write = write as typeof process.stderr.write

const loaded = (await import(pathToFileURL(job.module).href)) as Record<string, unknown>
const handler = (loaded[job.exportName] ?? (loaded.default as Record<string, unknown>)?.[job.exportName]) as (
  event: unknown,
  context: Context,
) => Promise<unknown>
if (typeof handler !== 'function') throw new Error(`${job.module} has no export ${job.exportName}`)
process.send?.({ ready: true })

let requests = 0
function context(): Context {
  const deadline = Date.now() + job.timeoutSeconds * 1000
  requests += 1
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: job.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${job.functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `${process.pid}-${requests}`,
    logGroupName: `/aws/lambda/${job.functionName}`,
    logStreamName: String(process.pid),
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}

function outcomes(from: readonly string[]): InvocationResult['outcomes'] {
  const found: { messageId: string; outcome: string }[] = []
  for (const line of from) {
    if (!line.startsWith('{')) continue
    try {
      const entry = JSON.parse(line) as { messageId?: string; bounce?: { outcome?: string } }
      if (typeof entry.bounce?.outcome === 'string') {
        found.push({ messageId: entry.messageId ?? '', outcome: entry.bounce.outcome })
      }
    } catch {
      // not a log line
    }
  }
  return found
}

process.on('message', async (message: Invocation | { kind: 'stop' }) => {
  if (message.kind === 'stop') {
    log.end(() => process.exit(0))
    return
  }
  lines = []
  const cpu = process.cpuUsage()
  const t0 = performance.now()
  const measured = () => {
    const used = process.cpuUsage(cpu)
    return { id: message.id, durationMs: performance.now() - t0, cpuMs: (used.user + used.system) / 1000 }
  }
  let result: Omit<InvocationResult, 'outcomes'>
  try {
    const response = await handler(message.event, context())
    result = { ...measured(), response }
  } catch (error) {
    result = { ...measured(), error: String(error) }
  }
  process.send?.({ ...result, outcomes: outcomes(lines) } satisfies InvocationResult)
})
