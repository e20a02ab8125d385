// `npm run bench:burst`: a burst of bounce-worthy mail through the packaged stack, driven the
// way Lambda drives it. Nothing leaves loopback; credentials are dummies.
//
//   1. `serverless package --stage dev` (in a copy of the repository), the zips unpacked: the
//      bounce and sendBounces functions exactly as they would deploy, with the template's
//      environment, timeouts, queue settings and event source mapping.
//   2. The stand-ins, each in a process of its own: the SES stub answering `Throttling` to any
//      SendBounce that arrives less than 1/rate s after the last one it accepted, dynalite (the
//      state table) and fauxqs 1.9 (the bounce queue and its dead-letter queue, with the
//      template's visibility timeout and redrive policy).
//   3. 300 messages to unknown recipients, each from a different sender, received at once by
//      RECEIPT_CONTAINERS processes (containers share no memory), each running one invocation at
//      a time as a Lambda container does.
//   4. Meanwhile the bounce queue is drained as the SQS event source mapping drains it: as many
//      pollers as the mapping's MaximumConcurrency, each invoking its own sendBounces container
//      with batches of the mapping's BatchSize, deleting what the function did not report in
//      batchItemFailures; what is not deleted returns after the visibility timeout.
//
// Prints bounces sent / decided, duplicates, throttled calls, the drain rate and receipt
// p50/p99, and PASS/FAIL against docs/performance.md's targets (exit code 1 on a FAIL).
//
// Options: --messages N (300), --containers N (8), --senders N (the mapping's maximum
// concurrency), --package DIR (reuse a `serverless package` output instead of packaging again).

import { type ChildProcess, type ForkOptions, fork } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { SQSBatchResponse } from 'aws-lambda'
import { transform } from 'esbuild'
import { formatTable } from '../../src/cli/table.js'
import { SqsEventSource } from '../../test/support/sqs-event-source.js'
import type { ContainerJob, InvocationResult } from './burst-lambda.js'
import type { SendBounceCall, ServerJob, ServerStarted } from './burst-server.js'
import { loadPackaged, type PackagedFunction, packageStack } from './packaged.js'
import { lambdaHeapFlags } from './vs-peer.js'

const ROOT = join(import.meta.dirname, '..', '..')
const { values: options } = parseArgs({
  options: {
    messages: { type: 'string', default: '300' },
    containers: { type: 'string', default: '8' },
    senders: { type: 'string' },
    package: { type: 'string' },
  },
})
const MESSAGES = Number(options.messages)
const RECEIPT_CONTAINERS = Number(options.containers)
/** Give up on draining after this long past the time the rate needs (a stuck bench, not a result). */
const DRAIN_SLACK_MS = 120_000

const TARGETS = { receiptP99Ms: 1000, drainPerSecond: 0.9 }

/** Event-only rules: every benchmark message bounces, decided from the event alone. */
const RULES = `bounceSender: mailer-daemon@example.com
reportingMta: mx.example.com
mode: enforce
rules:
  - name: unknown-recipient
    when: { recipient: { notIn: [alice@example.com] } }
    bounce: { type: DoesNotExist }
`

const DUMMY_ENV = {
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_REGION: 'us-east-1',
}

const log = (line: string) => process.stderr.write(`${line}\n`)
/** The stand-ins are TypeScript; tsx by its full path. */
const tsx = ['--import', import.meta.resolve('tsx')]

/**
 * The container script as plain JavaScript, so a container runs in a bare `node` as Lambda runs a
 * function: under tsx every chunk the function imports on first use went through tsx's loader
 * hooks, and the first invocation in each container paid for it (some 280 ms of CPU).
 */
async function containerScript(work: string): Promise<string> {
  const source = join(import.meta.dirname, 'burst-lambda.ts')
  const { code } = await transform(readFileSync(source, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    sourcefile: source,
  })
  const script = join(work, 'burst-lambda.mjs')
  writeFileSync(script, code)
  return script
}

// ------------------------------------------------------------------ child processes

async function startServer(job: ServerJob): Promise<{ child: ChildProcess; started: ServerStarted }> {
  const { child, ready } = await forkReady<ServerStarted>(
    join(import.meta.dirname, 'burst-server.ts'),
    [JSON.stringify(job)],
    { execArgv: tsx, env: { ...process.env, ...DUMMY_ENV } },
    `${job.kind} server`,
  )
  return { child, started: ready }
}

let asked = 0
/**
 * A request to a child and its answer, matched by id: the two pollers ask the SQS stand-in for the
 * queue's depth at the same moment, and a first-come answer could go to the wrong one.
 */
function ask<T>(child: ChildProcess, message: object): Promise<T> {
  asked += 1
  const id = asked
  return new Promise((resolve) => {
    const answered = (answer: unknown) => {
      if ((answer as { id?: unknown } | null)?.id !== id) return
      child.off('message', answered)
      resolve(answer as T)
    }
    child.on('message', answered)
    child.send({ ...message, id })
  })
}

/** Forks a child that sends one message when it is ready; rejects if it exits first. */
function forkReady<T>(script: string, args: string[], options: ForkOptions, what: string) {
  const child = fork(script, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], ...options })
  return new Promise<{ child: ChildProcess; ready: T }>((resolve, reject) => {
    child.once('message', (ready) => resolve({ child, ready: ready as T }))
    child.once('exit', (code) => reject(new Error(`${what} exited before it was ready (${code})`)))
  })
}

/** A Lambda container: one process, the packaged function loaded, one invocation at a time. */
class Container {
  private constructor(private readonly child: ChildProcess) {}

  static async start(
    script: string,
    name: string,
    fn: PackagedFunction,
    env: Record<string, string>,
    logFile: string,
  ): Promise<Container> {
    const job: ContainerJob = {
      module: fn.module,
      exportName: fn.exportName,
      functionName: `ses-bouncer-bench-${name}`,
      timeoutSeconds: fn.timeoutSeconds,
      logFile,
    }
    const { child } = await forkReady(
      script,
      [JSON.stringify(job)],
      {
        execArgv: lambdaHeapFlags(fn.memoryMb),
        cwd: fn.directory,
        env: {
          ...DUMMY_ENV,
          PATH: process.env.PATH ?? '',
          AWS_LAMBDA_FUNCTION_NAME: job.functionName,
          ...env,
        },
      },
      `${name} container`,
    )
    return new Container(child)
  }

  invoke(event: unknown): Promise<InvocationResult> {
    return ask<InvocationResult>(this.child, { kind: 'invoke', event })
  }

  stop(): void {
    this.child.send({ kind: 'stop' })
  }
}

// ------------------------------------------------------------------ the burst

/** events/unknown-recipient.json made over: message i, from its own sender, to an unknown mailbox, received now. */
function receiptEvent(template: string, i: number, runId: string): unknown {
  const event = JSON.parse(template)
  const { mail, receipt } = event.Records[0].ses
  const now = new Date().toISOString()
  const sender = `sender${i}@burst${i % 37}.example`
  const recipient = `nobody${i}@example.com`
  mail.messageId = `burst${runId}${String(i).padStart(5, '0')}`
  mail.timestamp = now
  mail.source = sender
  mail.destination = [recipient]
  mail.commonHeaders.from = [sender]
  mail.commonHeaders.to = [recipient]
  mail.headers = mail.headers.map((header: { name: string; value: string }) =>
    header.name === 'From'
      ? { ...header, value: sender }
      : header.name === 'To'
        ? { ...header, value: recipient }
        : header,
  )
  receipt.timestamp = now
  receipt.recipients = [recipient]
  return event
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

async function main(): Promise<void> {
  Object.assign(process.env, DUMMY_ENV)
  const work = mkdtempSync(join(tmpdir(), 'ses-bouncer-burst-'))
  const children: ChildProcess[] = []
  const containers: Container[] = []
  try {
    const model = cpus()[0]?.model ?? 'unknown CPU'
    console.log(
      `machine: ${model}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
        `Node ${process.version}; load average ${loadavg()
          .map((value) => value.toFixed(2))
          .join(' ')}`,
    )

    // 1. the packaged stack
    let packageDir = options.package
    if (packageDir === undefined) {
      log('packaging (serverless package --stage dev) ...')
      packageDir = await packageStack(work, { 'bounce-rules.yml': RULES })
    }
    const stack = loadPackaged(packageDir, work)
    const bounce = stack.fn('bounce')
    const sender = stack.fn('sendBounces')
    const resources = stack.template.Resources
    const queueProperties = resources.BounceQueue?.Properties ?? {}
    const mapping = Object.values(resources).find(
      (r) => r.Type === 'AWS::Lambda::EventSourceMapping',
    )?.Properties
    if (mapping === undefined) throw new Error('no event source mapping in the template')
    const batchSize = Number(mapping.BatchSize)
    const senders = Number(
      options.senders ?? (mapping.ScalingConfig as { MaximumConcurrency?: number })?.MaximumConcurrency ?? 2,
    )
    const rate = Number(sender.environment.BOUNCE_RATE_PER_SECOND ?? 1)
    const table = String(bounce.environment.IDEMPOTENCY_TABLE)
    const visibility = String(queueProperties.VisibilityTimeout)
    const redrive = queueProperties.RedrivePolicy as { maxReceiveCount: number }

    // 2. the stand-ins
    log('starting the SES stub, dynalite and fauxqs ...')
    const queueName = 'ses-bouncer-bench-bounces'
    const deadName = `${queueName}-dead`
    const [sesServer, dynamoServer, sqsServer] = await Promise.all([
      startServer({ kind: 'ses', sendBounceRate: rate }),
      startServer({ kind: 'dynamo', table }),
      startServer({
        kind: 'sqs',
        queues: [
          { name: deadName, attributes: {} },
          {
            name: queueName,
            attributes: {
              VisibilityTimeout: visibility,
              MessageRetentionPeriod: String(queueProperties.MessageRetentionPeriod),
              RedrivePolicy: JSON.stringify({
                deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:${deadName}`,
                maxReceiveCount: String(redrive.maxReceiveCount),
              }),
            },
          },
        ],
      }),
    ])
    children.push(sesServer.child, dynamoServer.child, sqsServer.child)
    const queues = sqsServer.started.queues ?? {}
    const endpoints = {
      AWS_ENDPOINT_URL_SES: sesServer.started.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoServer.started.url,
      AWS_ENDPOINT_URL_SQS: sqsServer.started.url,
    }
    /** The template's environment with what CloudFormation would fill in, pointed at the stand-ins. */
    const environment = (fn: PackagedFunction, overrides: Record<string, string>) => ({
      ...Object.fromEntries(
        Object.entries(fn.environment).filter(([, value]) => typeof value === 'string') as [string, string][],
      ),
      ...endpoints,
      ...overrides,
    })
    // Packaged here: the bench's rules were checked and compiled into the package, as a deploy
    // does. A reused package (--package) has rules of its own; the bench's go in as YAML instead.
    const rulesFile = join(work, 'bounce-rules.yml')
    writeFileSync(rulesFile, RULES)
    const rulesOverride: Record<string, string> =
      options.package === undefined ? {} : { RULES_FILE: rulesFile }
    const logs = join(work, 'logs')
    mkdirSync(logs)

    // 3 and 4: the containers, initialised before the burst (Lambda's init phase)
    log(`starting ${RECEIPT_CONTAINERS} bounce containers and ${senders} sendBounces containers ...`)
    const script = await containerScript(work)
    const startContainers = (
      count: number,
      name: string,
      fn: PackagedFunction,
      overrides: Record<string, string>,
    ) =>
      Promise.all(
        Array.from({ length: count }, (_, i) =>
          Container.start(script, name, fn, environment(fn, overrides), join(logs, `${name}-${i}.log`)),
        ),
      )
    const receiptContainers = await startContainers(RECEIPT_CONTAINERS, 'bounce', bounce, {
      ...rulesOverride,
      MAIL_BUCKET: '',
      BOUNCE_QUEUE_URL: queues[queueName] ?? '',
    })
    const senderContainers = await startContainers(senders, 'sendBounces', sender, {
      BOUNCE_DEAD_LETTER_URL: queues[deadName] ?? '',
    })
    containers.push(...receiptContainers, ...senderContainers)

    const template = readFileSync(join(ROOT, 'events', 'unknown-recipient.json'), 'utf8')
    const runId = Date.now().toString(36)
    const events = Array.from({ length: MESSAGES }, (_, i) => receiptEvent(template, i, runId))

    const depth = () =>
      ask<{ waiting: number; inFlight: number }>(sqsServer.child, { kind: 'depth', queue: queueName })
    let receiptDone = false
    let stopDraining = false
    const senderOutcomes: InvocationResult['outcomes'][number][] = []
    const pollers = senderContainers.map((container) =>
      new SqsEventSource({
        endpoint: sqsServer.started.url,
        queueUrl: queues[queueName] ?? '',
        queueArn: `arn:aws:sqs:us-east-1:000000000000:${queueName}`,
        batchSize,
        waitSeconds: 1,
      }).run(
        async (event) => {
          const result = await container.invoke(event)
          senderOutcomes.push(...result.outcomes)
          if (result.error !== undefined) throw new Error(result.error)
          return result.response as SQSBatchResponse
        },
        async () => {
          if (stopDraining) return true
          if (!receiptDone) return false
          const { waiting, inFlight } = await depth()
          return waiting + inFlight === 0
        },
      ),
    )

    // The burst: every container starts at the same instant, each takes its share in turn.
    log(`the burst: ${MESSAGES} messages ...`)
    const burstStart = Date.now()
    const receipts: InvocationResult[] = []
    const firstReceipts: InvocationResult[] = []
    let nextEvent = 0
    await Promise.all(
      receiptContainers.map(async (container) => {
        let first = true
        while (nextEvent < events.length) {
          const event = events[nextEvent]
          nextEvent += 1
          const result = await container.invoke(event)
          receipts.push(result)
          if (first) firstReceipts.push(result)
          first = false
        }
      }),
    )
    receiptDone = true
    const receiptSeconds = (Date.now() - burstStart) / 1000
    log(`decided in ${receiptSeconds.toFixed(1)} s; draining the queue at ${rate} a second ...`)
    const giveUp = setTimeout(
      () => {
        stopDraining = true
      },
      (MESSAGES / rate) * 1000 + DRAIN_SLACK_MS,
    )
    const polls = await Promise.all(pollers)
    clearTimeout(giveUp)

    // results
    const { calls } = await ask<{ calls: SendBounceCall[] }>(sesServer.child, { kind: 'report' })
    const acceptedCalls = calls.filter((call) => call.status === 200)
    const throttledCalls = calls.filter((call) => call.status === 400)
    const decided = new Set(
      receipts.flatMap((r) => r.outcomes.filter((o) => o.outcome === 'queued').map((o) => o.messageId)),
    )
    const sentIds = new Set(acceptedCalls.map((call) => call.originalMessageId))
    const sentOfDecided = [...decided].filter((id) => sentIds.has(id)).length
    const duplicates = acceptedCalls.length - sentIds.size
    const durations = receipts.map((r) => r.durationMs)
    const dispositions = new Map<string, number>()
    for (const r of receipts) {
      const key =
        r.error === undefined ? String((r.response as { disposition?: string })?.disposition) : 'error'
      dispositions.set(key, (dispositions.get(key) ?? 0) + 1)
    }
    const lastSent = Math.max(...acceptedCalls.map((call) => call.at))
    const firstSent = Math.min(...acceptedCalls.map((call) => call.at))
    const drainSeconds = (lastSent - burstStart) / 1000
    const drainRate = acceptedCalls.length / drainSeconds
    const gaps = acceptedCalls.slice(1).map((call, i) => call.at - (acceptedCalls[i] as SendBounceCall).at)
    const invocations = polls.flat()
    const deadLetters = await ask<{ waiting: number }>(sqsServer.child, { kind: 'depth', queue: deadName })
    const byOutcome = new Map<string, number>()
    for (const { outcome } of senderOutcomes) byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1)

    console.log('')
    console.log(
      `${MESSAGES} messages to unknown recipients, each from its own sender, received at once by ${RECEIPT_CONTAINERS} ` +
        `bounce containers (one invocation at a time each); the queue drained by ${senders} sendBounces ` +
        `containers in batches of ${batchSize} (visibility timeout ${visibility} s, maxReceiveCount ` +
        `${redrive.maxReceiveCount}); SES stub limit ${rate} SendBounce a second; packaged bundles: ` +
        `${bounce.module.slice(bounce.directory.length + 1)}, ${sender.module.slice(sender.directory.length + 1)}, ` +
        `each container a bare node with Lambda's heap flags (${lambdaHeapFlags(bounce.memoryMb).join(' ')})`,
    )
    console.log('')
    console.log(
      formatTable(
        ['measure', 'value'],
        [
          ['receipt dispositions', [...dispositions].map(([key, n]) => `${key} ${n}`).join(', ')],
          [
            'receipt p50 / p99 / max',
            `${percentile(durations, 50).toFixed(1)} / ${percentile(durations, 99).toFixed(1)} / ${Math.max(...durations).toFixed(1)} ms`,
          ],
          [
            'receipt CPU per invocation: first in its container / the others (p50)',
            `${percentile(
              firstReceipts.map((r) => r.cpuMs),
              50,
            ).toFixed(1)} / ${percentile(
              receipts.filter((r) => !firstReceipts.includes(r)).map((r) => r.cpuMs),
              50,
            ).toFixed(1)} ms`,
          ],
          ['burst decided in', `${receiptSeconds.toFixed(1)} s`],
          ['bounces sent / decided', `${sentOfDecided} / ${decided.size}`],
          ['duplicates (a message id SES accepted twice)', String(duplicates)],
          ['throttled SendBounce calls', String(throttledCalls.length)],
          [
            'drain rate (sent / time from burst to last send)',
            `${drainRate.toFixed(3)} bounces/s (${acceptedCalls.length} in ${drainSeconds.toFixed(1)} s)`,
          ],
          ['first bounce sent after the burst began', `${((firstSent - burstStart) / 1000).toFixed(2)} s`],
          [
            'gap between SendBounce calls min / median / max',
            `${Math.min(...gaps)} / ${percentile(gaps, 50)} / ${Math.max(...gaps)} ms`,
          ],
          [
            'sender invocations / batch-item failures',
            `${invocations.length} / ${invocations.reduce((n, p) => n + p.leftOnQueue, 0)}`,
          ],
          ['sender outcomes', [...byOutcome].map(([key, n]) => `${key} ${n}`).join(', ')],
          ['dead letters', String(deadLetters.waiting)],
        ],
      ),
    )
    const checks: [string, boolean, string][] = [
      [
        `all ${MESSAGES} bounces sent`,
        decided.size === MESSAGES && sentOfDecided === MESSAGES,
        `${sentOfDecided} / ${decided.size}`,
      ],
      ['0 duplicates', duplicates === 0, String(duplicates)],
      ['0 throttled calls', throttledCalls.length === 0, String(throttledCalls.length)],
      [
        `receipt p99 < ${TARGETS.receiptP99Ms} ms`,
        percentile(durations, 99) < TARGETS.receiptP99Ms,
        `${percentile(durations, 99).toFixed(1)} ms`,
      ],
      [
        `drain >= ${TARGETS.drainPerSecond} bounces/s`,
        drainRate >= TARGETS.drainPerSecond,
        `${drainRate.toFixed(3)} /s`,
      ],
    ]
    console.log('')
    console.log(
      `load average at the end: ${loadavg()
        .map((value) => value.toFixed(2))
        .join(' ')}`,
    )
    console.log('')
    console.log(
      formatTable(
        ['target', 'result', 'measured'],
        checks.map(([name, ok, value]) => [name, ok ? 'PASS' : 'FAIL', value]),
      ),
    )
    if (checks.some(([, ok]) => !ok)) {
      log(`logs kept in ${logs}`)
      process.exitCode = 1
    }
  } finally {
    for (const container of containers) container.stop()
    for (const child of children) child.send({ kind: 'stop' })
    if (process.exitCode !== 1) rmSync(work, { recursive: true, force: true })
  }
}

await main()
