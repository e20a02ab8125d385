// One measurement in a process of its own, so its memory figures are its own: started by
// scripts/bench/bench.ts with `node --expose-gc --import tsx`, the job as JSON in argv[2], the
// result sent back over IPC. The environment (endpoints, credentials, rules file) comes from the
// parent.

import { readFileSync, writeFileSync } from 'node:fs'
import type { Readable } from 'node:stream'
import type { Context } from 'aws-lambda'
import { receiptEvent } from './messages.js'

export type Job =
  | {
      readonly kind: 'handler'
      /** Makes the S3 keys and events: `<prefix><messageId>`. */
      readonly messageId: string
      readonly warmupMessageId: string
      readonly recipients: readonly string[]
      readonly expectedDisposition: string
      readonly runs: number
      /** The message's SES event, received now; else events/accepted.json made over for it. */
      readonly event?: unknown
      /** The warm-up message's disposition, when it is not `expectedDisposition`. */
      readonly warmupDisposition?: string
    }
  | {
      readonly kind: 'simpleParser' | 'mailparserStream'
      readonly bucket: string
      readonly key: string
      readonly warmupKey: string
      readonly runs: number
    }
  | {
      readonly kind: 'list'
      readonly rulesFile: string
      /** How many recipients to decide, user<n>@example.com entries of the list among them. */
      readonly lookups: number
    }

export interface Measurement {
  /** Milliseconds of each timed run, in order. */
  readonly ms: readonly number[]
  /** RSS after the warm-up and a full GC: the idle process. */
  readonly idleRss: number
  /** The highest RSS while the timed runs ran (the kernel's high-water mark, reset before them). */
  readonly peakRss: number
}

export interface ListMeasurement {
  readonly loadMs: number
  readonly entries: number
  readonly lookups: number
  readonly lookupMs: number
  readonly matched: number
}

const gc = (globalThis as { gc?: () => void }).gc

/** The kernel's peak RSS of this process (VmHWM); `resetPeak` starts it again from now. */
function peakRss(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
  return match ? Number(match[1]) * 1024 : process.resourceUsage().maxRSS * 1024
}

function resetPeak(): boolean {
  try {
    // Linux ≥ 4.0: "5" resets the peak RSS of the process (proc(5), /proc/pid/clear_refs).
    writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch {
    return false
  }
}

/** Measures `run` `runs` times after `warmups` warm-up calls; a sampler backs up the kernel's mark. */
async function measure(
  runs: number,
  warmup: () => Promise<void>,
  run: () => Promise<void>,
): Promise<Measurement> {
  for (let i = 0; i < 3; i++) await warmup()
  gc?.()
  gc?.()
  const idleRss = process.memoryUsage.rss()
  const exact = resetPeak()
  let sampled = idleRss
  const sampler = exact
    ? undefined
    : setInterval(() => {
        sampled = Math.max(sampled, process.memoryUsage.rss())
      }, 1)
  const ms: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    await run()
    ms.push(performance.now() - started)
  }
  if (sampler) clearInterval(sampler)
  return { ms, idleRss, peakRss: exact ? peakRss() : Math.max(sampled, process.memoryUsage.rss()) }
}

function lambdaContext(): Context {
  const deadline = Date.now() + 30_000
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'ses-bouncer-bench-bounce',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ses-bouncer-bench-bounce',
    memoryLimitInMB: '256',
    awsRequestId: `bench-${Math.random().toString(36).slice(2)}`,
    logGroupName: '/aws/lambda/ses-bouncer-bench-bounce',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}

/** A copy of `event` received now: SendBounce refuses mail older than 24 hours. */
function freshEvent(event: unknown): unknown {
  const copy = structuredClone(event) as {
    Records: { ses: { mail: { timestamp: string }; receipt: { timestamp: string } } }[]
  }
  const now = new Date().toISOString()
  for (const record of copy.Records) {
    record.ses.mail.timestamp = now
    record.ses.receipt.timestamp = now
  }
  return copy
}

async function handlerJob(job: Extract<Job, { kind: 'handler' }>): Promise<Measurement> {
  const { handler } = await import('../../handlers/bounce.js')
  const eventFor = (messageId: string) =>
    messageId === job.messageId && job.event !== undefined
      ? freshEvent(job.event)
      : receiptEvent(messageId, job.recipients)
  const invoke = async (messageId: string, expected: string): Promise<void> => {
    const result = (await handler(eventFor(messageId) as never, lambdaContext())) as {
      disposition: string
    }
    if (result.disposition !== expected) {
      throw new Error(`${messageId}: disposition ${result.disposition}, expected ${expected}`)
    }
  }
  return measure(
    job.runs,
    () => invoke(job.warmupMessageId, job.warmupDisposition ?? job.expectedDisposition),
    () => invoke(job.messageId, job.expectedDisposition),
  )
}

async function parserJob(
  job: Extract<Job, { kind: 'simpleParser' | 'mailparserStream' }>,
): Promise<Measurement> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3')
  const { s3Client } = await import('../../src/adapters/s3-client.js')
  const { simpleParser } = await import('mailparser')
  const { parseWithMailParser } = await import('../../test/support/mailparser-reference.js')
  // The client the function itself builds (path style against the local endpoint, same timeouts).
  const s3 = s3Client(process.env.AWS_REGION ?? 'us-east-1', process.env)
  const parse = async (key: string): Promise<void> => {
    const object = await s3.send(new GetObjectCommand({ Bucket: job.bucket, Key: key }))
    const body = object.Body as Readable
    if (job.kind === 'simpleParser') {
      const mail = await simpleParser(body)
      if (mail.attachments.length === 0) throw new Error(`${key}: simpleParser found no attachment`)
    } else {
      const parsed = await parseWithMailParser(body)
      if (parsed.attachments.length === 0) throw new Error(`${key}: MailParser found no attachment`)
    }
  }
  return measure(
    job.runs,
    () => parse(job.warmupKey),
    () => parse(job.key),
  )
}

async function listJob(job: Extract<Job, { kind: 'list' }>): Promise<ListMeasurement> {
  const { loadConfig } = await import('../../src/config/load-config.js')
  const yaml = await import('yaml')
  const { decide } = await import('../../src/domain/decide.js')
  const started = performance.now()
  const config = loadConfig(
    { RULES_FILE: job.rulesFile },
    {
      readText: (path) => readFileSync(path, 'utf8'),
      yaml,
    },
  )
  const loadMs = performance.now() - started
  const { rules, safety } = config.ruleSet
  const message = {
    messageId: 'bench-list',
    receivedAt: new Date(),
    envelopeSender: 'martin.keller@acme-logistics.example',
    recipients: [] as string[],
    headers: [],
    headersTruncated: false,
    fromAddresses: ['martin.keller@acme-logistics.example'],
    verdicts: { spam: 'PASS', virus: 'PASS', spf: 'PASS', dkim: 'PASS', dmarc: 'PASS' },
    invocationType: 'RequestResponse',
  } as const
  // Half known (spelt as SES may give them: case, +tag), half unknown.
  const lookups = Array.from({ length: job.lookups }, (_, i) => {
    const n = (i * 7919) % job.lookups
    if (i % 4 === 0) return `User${n}+tag@Example.COM`
    if (i % 4 === 1) return `user${n}@example.com`
    return `nobody${n}@example.com`
  })
  // One warm-up pass (the JIT), then the timed one: every lookup a message of one recipient.
  let matched = 0
  let lookupMs = 0
  for (const timed of [false, true]) {
    matched = 0
    const t0 = performance.now()
    for (const recipient of lookups) {
      const outcome = decide(rules, safety, { message: { ...message, recipients: [recipient] } })
      if (outcome.kind === 'decided' && outcome.decisions[0]?.action === 'accept') matched++
    }
    if (timed) lookupMs = performance.now() - t0
  }
  const entries =
    readFileSync(job.rulesFile.replace(/[^/]+$/, 'mailboxes.txt'), 'utf8').split('\n').length - 1
  return { loadMs, entries, lookups: lookups.length, lookupMs, matched }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as Job
  const result =
    job.kind === 'handler'
      ? await handlerJob(job)
      : job.kind === 'list'
        ? await listJob(job)
        : await parserJob(job)
  await new Promise<void>((resolve, reject) =>
    process.send?.({ ok: true, result }, (error: Error | null) => (error ? reject(error) : resolve())),
  )
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.send?.(
      { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) },
      () => process.exit(1),
    )
  },
)
