// `npm run bench`: what a decision costs, by message size and by what the rules need.
//
// Generates messages of about 10 KB, 1 MB, 10 MB and 30 MB into a temp directory, stores them in a
// local S3 server (s3rver) and runs the real bounce handler (handlers/bounce.ts, in-process in a
// child) against it and the SES stub on loopback, each size and rule set in a process of its own:
// event-only rules (recipients, verdicts) and content rules (a size rule and an attachment filename
// rule). In the same run, the reference: GetObject + mailparser's simpleParser on the same stream,
// and the streaming MailParser the adapter used before. Then the bundled handler's size and cold
// import time against the same bundle importing every module eagerly, and a 100,000-entry
// recipient list. Prints a table and PASS/FAIL per target (docs/performance.md).
//
// Not a test: CI does not run it. Nothing leaves loopback; credentials are dummies.

import { fork } from 'node:child_process'
import { subscribe } from 'node:diagnostics_channel'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { IncomingMessage, Server } from 'node:http'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { type S3Server, startS3Server } from '../../test/support/s3-server.js'
import { type SesStub, startSesStub } from '../../test/support/ses-stub.js'
import { type BundleMeasurement, measureBundles } from './bundle.js'
import type { Job, ListMeasurement, Measurement } from './child.js'
import { type BenchSize, benchMessage, SIZES } from './messages.js'
import { measureWorstCase, type WorstCase, worstCaseReport } from './worst-case.js'

const BUCKET = 'bench-mail'
const PREFIX = 'inbound/'
const MB = 1024 * 1024

/** Timed runs per measurement (odd: the median is one run); the warm-up adds 3 more. */
const RUNS: Record<string, number> = { '10KB': 31, '1MB': 21, '10MB': 11, '30MB': 9 }
const EVENT_ONLY_RUNS = 51
const LIST_ENTRIES = 100_000
/** Fresh processes the list is loaded in (the median is reported). */
const LIST_PROCESSES = 7

const TARGETS = {
  eventOnlyTimeRatio: 1.5,
  contentAboveIdleMb: 40,
  contentVsSimpleParser: 0.6,
  coldImportRatio: 0.7,
  listLoadMs: 300,
  listLookupUs: 5,
}

/** The rules a run decides with: nothing here reads the message. */
const EVENT_ONLY_RULES = `bounceSender: mailer-daemon@example.com
reportingMta: mx.example.com
mode: enforce
rules:
  - name: virus
    when: { verdict: { virus: FAIL } }
    drop: true
  - name: spam
    when: { verdict: { spam: [FAIL, GRAY] } }
    drop: true
  - name: dmarc-reject
    when: { verdict: { dmarc: FAIL }, dmarcPolicy: reject }
    drop: true
  - name: unknown-recipient
    when: { recipient: { notIn: [alice@example.com, "*@support.example.com"] } }
    bounce: { type: DoesNotExist }
`

/** A size rule (HeadObject) and an attachment rule (the message, streamed). */
const CONTENT_RULES = `bounceSender: mailer-daemon@example.com
reportingMta: mx.example.com
mode: enforce
rules:
  - name: too-large
    when: { size: { over: 40M } }
    bounce: { type: MessageTooLarge }
  - name: no-executables
    when: { attachment: { filename: ["*.exe", "*.scr", "*.js", "*.bat", "*.vbs", "*.cmd"] } }
    bounce: { type: ContentRejected, status: 5.7.1 }
`

type RowKind = 'event-only' | 'content' | 'MailParser' | 'simpleParser'

interface Row {
  readonly size: BenchSize
  readonly kind: RowKind
  readonly measurement: Measurement
  readonly s3Requests: { readonly total: number; readonly byMethod: Record<string, number> }
  readonly invocations: number
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

const mb = (bytes: number): string => (bytes / MB).toFixed(1)

async function main(): Promise<void> {
  const dummyEnv = {
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_REGION: 'us-east-1',
  }
  Object.assign(process.env, dummyEnv)

  const work = await mkdtemp(join(tmpdir(), 'ses-bouncer-bench-'))
  let s3: S3Server | undefined
  let ses: SesStub | undefined
  try {
    printMachine()
    s3 = await startS3Server({ buckets: [BUCKET] })
    ses = await startSesStub()
    const s3Port = Number(new URL(s3.url).port)
    const counter = countRequests(s3Port)

    log('generating and storing messages ...')
    for (const size of SIZES) {
      const bytes = benchMessage(size)
      await writeFile(join(work, `${messageIdOf(size)}.eml`), bytes)
      await s3.putObject(BUCKET, `${PREFIX}${messageIdOf(size)}`, bytes)
      log(`  ${size.label}: ${bytes.length.toLocaleString('en-US')} bytes`)
    }
    await writeFile(join(work, 'event-only.yml'), EVENT_ONLY_RULES)
    await writeFile(join(work, 'content.yml'), CONTENT_RULES)

    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ...dummyEnv,
      ...s3.env,
      AWS_ENDPOINT_URL_SES: ses.url,
      MAIL_BUCKET: BUCKET,
      MAIL_PREFIX: PREFIX,
      POWERTOOLS_DEV: 'false',
      POWERTOOLS_METRICS_NAMESPACE: 'SesBouncerBench',
      AWS_LAMBDA_FUNCTION_NAME: 'ses-bouncer-bench-bounce',
    }
    const warmup = SIZES[0] as BenchSize

    const rows: Row[] = []
    for (const size of SIZES) {
      const runs = RUNS[size.label] ?? 9
      const handlerJob = (rulesFile: string, recipients: string[], expectedDisposition: string, n: number) =>
        ({
          job: {
            kind: 'handler',
            messageId: messageIdOf(size),
            warmupMessageId: messageIdOf(warmup),
            recipients,
            expectedDisposition,
            runs: n,
          } satisfies Job,
          env: { ...childEnv, RULES_FILE: join(work, rulesFile) },
        }) as const
      const parserJob = (kind: 'simpleParser' | 'mailparserStream') =>
        ({
          job: {
            kind,
            bucket: BUCKET,
            key: `${PREFIX}${messageIdOf(size)}`,
            warmupKey: `${PREFIX}${messageIdOf(warmup)}`,
            runs,
          } satisfies Job,
          env: childEnv,
        }) as const
      const plan: [RowKind, { job: Job; env: NodeJS.ProcessEnv }][] = [
        // alice is accepted, ghost bounced: one SendBounce, CONTINUE
        [
          'event-only',
          handlerJob(
            'event-only.yml',
            ['alice@example.com', 'ghost@example.com'],
            'CONTINUE',
            EVENT_ONLY_RUNS,
          ),
        ],
        // under the size limit; setup.exe at the end of the message: one SendBounce, STOP_RULE_SET
        ['content', handlerJob('content.yml', ['alice@example.com'], 'STOP_RULE_SET', runs)],
        ['MailParser', parserJob('mailparserStream')],
        ['simpleParser', parserJob('simpleParser')],
      ]
      for (const [kind, { job, env }] of plan) {
        log(`measuring ${size.label} ${kind} ...`)
        counter.reset()
        const sendsBefore = ses.requestsFor('SendBounce').length
        const measurement = await runChild<Measurement>(job, env)
        const invocations = measurement.ms.length + 3
        if (job.kind === 'handler') {
          const sends = ses.requestsFor('SendBounce').length - sendsBefore
          if (sends !== invocations)
            throw new Error(`${kind} ${size.label}: ${sends} SendBounce for ${invocations} messages`)
        }
        rows.push({ size, kind, measurement, s3Requests: counter.snapshot(), invocations })
      }
    }

    log('building and cold-importing the bounce bundle ...')
    const bundleEnv: NodeJS.ProcessEnv = {
      ...childEnv,
      RULES_FILE: join(work, 'content.yml'),
    }
    const bundle = await measureBundles(work, bundleEnv)

    log(`loading and asking a ${LIST_ENTRIES.toLocaleString('en-US')}-entry recipient list ...`)
    const list = await measureList(work, childEnv)

    const s3Server = s3
    const worst = await measureWorstCase({
      work,
      warmupMessageId: messageIdOf(warmup),
      store: (messageId, bytes) => s3Server.putObject(BUCKET, `${PREFIX}${messageId}`, bytes),
      runChild,
      env: childEnv,
      log,
    })

    printReport(rows, bundle, list, worst)
  } finally {
    await ses?.close()
    await s3?.close()
    await rm(work, { recursive: true, force: true })
  }
}

function messageIdOf(size: BenchSize): string {
  return `bench-${size.label.toLowerCase()}`
}

function log(line: string): void {
  process.stderr.write(`${line}\n`)
}

/** Requests the S3 server answers, counted as Node's HTTP server receives them. */
function countRequests(port: number) {
  let total = 0
  let byMethod: Record<string, number> = {}
  subscribe('http.server.request.start', (message) => {
    const { request, server } = message as { request: IncomingMessage; server: Server }
    const address = server.address()
    if (typeof address !== 'object' || address?.port !== port) return
    total += 1
    const method = request.method ?? '?'
    byMethod[method] = (byMethod[method] ?? 0) + 1
  })
  return {
    reset() {
      total = 0
      byMethod = {}
    },
    snapshot: () => ({ total, byMethod: { ...byMethod } }),
  }
}

async function runChild<T>(job: Job, env: NodeJS.ProcessEnv): Promise<T> {
  const child = fork(join(import.meta.dirname, 'child.ts'), [JSON.stringify(job)], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env,
    // The handler's log lines are not wanted here; errors come back over IPC.
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const message = await new Promise<{ ok: boolean; result?: T; error?: string }>((resolve, reject) => {
    let answer: { ok: boolean; result?: T; error?: string } | undefined
    child.on('message', (value) => {
      answer = value as typeof answer
    })
    child.on('error', reject)
    child.on('exit', (code) =>
      answer ? resolve(answer) : reject(new Error(`child exited with ${code} and no result:\n${stderr}`)),
    )
  })
  if (!message.ok) throw new Error(`${job.kind} failed: ${message.error}\n${stderr}`)
  return message.result as T
}

async function measureList(work: string, env: NodeJS.ProcessEnv): Promise<ListMeasurement> {
  const listDir = join(work, 'list')
  await rm(listDir, { recursive: true, force: true })
  const { mkdir } = await import('node:fs/promises')
  await mkdir(listDir)
  const mailboxes = Array.from({ length: LIST_ENTRIES }, (_, i) => `user${i}@example.com`)
  await writeFile(join(listDir, 'mailboxes.txt'), `${mailboxes.join('\n')}\n`)
  const rulesFile = join(listDir, 'bounce-rules.yml')
  await writeFile(
    rulesFile,
    [
      'bounceSender: mailer-daemon@example.com',
      'rules:',
      '  - name: unknown-recipient',
      '    when: { recipient: { notInFile: mailboxes.txt } }',
      '    bounce: { type: DoesNotExist }',
      '',
    ].join('\n'),
  )
  // A cold start's work, so each load is the first in a fresh process; the median of several.
  const runs: ListMeasurement[] = []
  for (let i = 0; i < LIST_PROCESSES; i++) {
    runs.push(await runChild<ListMeasurement>({ kind: 'list', rulesFile, lookups: LIST_ENTRIES }, env))
  }
  const first = runs[0] as ListMeasurement
  return {
    ...first,
    loadMs: median(runs.map((run) => run.loadMs)),
    lookupMs: median(runs.map((run) => run.lookupMs)),
  }
}

function printMachine(): void {
  const model = cpus()[0]?.model ?? 'unknown CPU'
  console.log(
    `machine: ${model}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
      `Node ${process.version} (${process.platform}-${process.arch}); ` +
      `load average ${loadavg()
        .map((value) => value.toFixed(2))
        .join(' ')}`,
  )
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

const ROW_LABELS: Record<RowKind, string> = {
  'event-only': 'handler, event-only rules',
  content: 'handler, content rules',
  MailParser: 'ref: GetObject + MailParser stream',
  simpleParser: 'ref: GetObject + simpleParser',
}

function printReport(
  rows: readonly Row[],
  bundle: BundleMeasurement,
  list: ListMeasurement,
  worst: WorstCase,
): void {
  console.log('')
  console.log(
    table(
      ['size', 'what', 'runs', 'S3 req/msg', 'median ms', 'peak RSS MB', 'above idle MB'],
      rows.map((row) => [
        row.size.label,
        ROW_LABELS[row.kind],
        String(row.measurement.ms.length),
        s3PerMessage(row),
        median(row.measurement.ms).toFixed(1),
        mb(row.measurement.peakRss),
        mb(row.measurement.peakRss - row.measurement.idleRss),
      ]),
    ),
  )
  const lazy = median(bundle.lazyMs)
  const eager = median(bundle.eagerMs)
  console.log('')
  console.log(
    table(
      ['bundle', 'variant', 'size KiB', 'cold import ms (median of 10)'],
      [
        [
          'bounce.cjs',
          'as packaged (MIME code and AWS SDK clients on first use)',
          (bundle.lazyBytes / 1024).toFixed(0),
          lazy.toFixed(1),
        ],
        [
          'bounce.cjs',
          'every module imported eagerly',
          (bundle.eagerBytes / 1024).toFixed(0),
          eager.toFixed(1),
        ],
      ],
    ),
  )
  const perLookupUs = (list.lookupMs * 1000) / list.lookups
  console.log('')
  console.log(
    `recipient list: ${list.entries.toLocaleString('en-US')} entries loaded in ${list.loadMs.toFixed(1)} ms ` +
      `(median of ${LIST_PROCESSES} fresh processes); ` +
      `${list.lookups.toLocaleString('en-US')} recipients decided in ${list.lookupMs.toFixed(1)} ms ` +
      `(${perLookupUs.toFixed(2)} µs each, ${list.matched.toLocaleString('en-US')} known)`,
  )

  const worstCase = worstCaseReport(worst)
  console.log('')
  console.log(
    table(['worst case (10 MB each)', 'message', 'MB', 'median ms', 'above idle MB'], worstCase.rows),
  )

  const find = (label: string, kind: RowKind) => {
    const row = rows.find((r) => r.size.label === label && r.kind === kind)
    if (row === undefined) throw new Error(`no ${label} ${kind} row`)
    return row
  }
  const eventRows = rows.filter((row) => row.kind === 'event-only')
  const eventS3 = eventRows.reduce((sum, row) => sum + row.s3Requests.total, 0)
  const event10k = median(find('10KB', 'event-only').measurement.ms)
  const event30m = median(find('30MB', 'event-only').measurement.ms)
  const content30 = find('30MB', 'content').measurement
  const simple30 = median(find('30MB', 'simpleParser').measurement.ms)
  const checks: [string, boolean, string][] = [
    [
      'event-only rules make no S3 request',
      eventS3 === 0,
      `${eventS3} requests in ${eventRows.reduce((sum, row) => sum + row.invocations, 0)} invocations`,
    ],
    [
      `event-only: 30MB time <= ${TARGETS.eventOnlyTimeRatio}x 10KB`,
      event30m / event10k <= TARGETS.eventOnlyTimeRatio,
      `${(event30m / event10k).toFixed(2)}x (${event30m.toFixed(1)} / ${event10k.toFixed(1)} ms)`,
    ],
    [
      `content rules, 30MB: RSS above idle <= ${TARGETS.contentAboveIdleMb} MB`,
      content30.peakRss - content30.idleRss <= TARGETS.contentAboveIdleMb * MB,
      `${mb(content30.peakRss - content30.idleRss)} MB`,
    ],
    [
      `content rules, 30MB: time <= ${TARGETS.contentVsSimpleParser}x simpleParser`,
      median(content30.ms) / simple30 <= TARGETS.contentVsSimpleParser,
      `${(median(content30.ms) / simple30).toFixed(2)}x (${median(content30.ms).toFixed(1)} / ${simple30.toFixed(1)} ms)`,
    ],
    [
      `cold import <= ${TARGETS.coldImportRatio}x eager bundle`,
      lazy / eager <= TARGETS.coldImportRatio,
      `${(lazy / eager).toFixed(2)}x (${lazy.toFixed(1)} / ${eager.toFixed(1)} ms)`,
    ],
    [
      `100,000-entry list loads in < ${TARGETS.listLoadMs} ms`,
      list.loadMs < TARGETS.listLoadMs,
      `${list.loadMs.toFixed(1)} ms`,
    ],
    [
      `100,000-entry list answers in < ${TARGETS.listLookupUs} µs a recipient`,
      perLookupUs < TARGETS.listLookupUs,
      `${perLookupUs.toFixed(2)} µs`,
    ],
    ...worstCase.checks,
  ]
  console.log('')
  console.log(
    table(
      ['target', 'result', 'measured'],
      checks.map(([name, ok, value]) => [name, ok ? 'PASS' : 'FAIL', value]),
    ),
  )
  if (checks.some(([, ok]) => !ok)) process.exitCode = 1
}

function s3PerMessage(row: Row): string {
  const { total, byMethod } = row.s3Requests
  if (total === 0) return '0'
  const methods = Object.entries(byMethod)
    .map(([method, count]) => `${(count / row.invocations).toFixed(0)} ${method}`)
    .join(' + ')
  return methods
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
