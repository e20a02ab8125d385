// `npm run bench`: what a decision costs, by message size and by what the rules need, and what
// the packaged function costs against the most-used npm peer.
//
// Generates messages of about 10 KB, 1 MB, 10 MB and 30 MB into a temp directory, stores them in a
// local S3 server (s3rver) and runs the real bounce handler (handlers/bounce.ts, in-process in a
// child) against it and the SES stub on loopback, each size and rule set in a process of its own:
// event-only rules (recipients, verdicts) and content rules (a size rule and an attachment filename
// rule). In the same run, the reference: GetObject + mailparser's simpleParser on the same stream,
// and the streaming MailParser the adapter used before. Then the handler built as serverless
// builds it against the same build importing every module eagerly; the function as `npm run
// package` ships it, run from its zip in a bare `node`, against aws-lambda-ses-forwarder (cold
// start, idle memory) and with a 40 MB message (scripts/bench/packaged.ts); and recipient lists
// of 10,000 and 100,000 entries. Prints a table and PASS/FAIL per target (docs/performance.md).
//
// Every time target is a ratio to a reference measured in the same run, so a busy machine slows
// both alike; memory targets are in MB. Not a test: CI does not run it. Nothing leaves loopback
// (but for installing the peer from the npm registry once); credentials are dummies.

import { fork } from 'node:child_process'
import { subscribe } from 'node:diagnostics_channel'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { IncomingMessage, Server } from 'node:http'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { packageRules } from '../../src/runtime/package-rules.js'
import { type DynamoServer, startDynamo } from '../../test/support/dynamo-server.js'
import { type S3Server, startS3Server } from '../../test/support/s3-server.js'
import { type SesStub, startSesStub } from '../../test/support/ses-stub.js'
import { type BundleMeasurement, measureBundles } from './bundle.js'
import type { Job, ListMeasurement, Measurement } from './child.js'
import { type BenchSize, benchMessage, receiptEvent, SIZES } from './messages.js'
import { median } from './stats.js'
import {
  type ColdStarts,
  FUNCTION_NODE,
  installPeer,
  type LargeMessage,
  lambdaHeapFlags,
  measureColdStarts,
  measureLargeMessage,
  type Packaged,
  packageBounce,
} from './vs-peer.js'
import { measureWorstCase, type WorstCase, worstCaseReport } from './worst-case.js'

const BUCKET = 'bench-mail'
const PREFIX = 'inbound/'
const MB = 1024 * 1024

/** Timed runs per measurement (odd: the median is one run); the warm-up adds 3 more. */
const RUNS: Record<string, number> = { '10KB': 31, '1MB': 21, '10MB': 11, '30MB': 9 }
const EVENT_ONLY_RUNS = 51
/** The list sizes compared: ten times the entries should cost about ten times the load. */
const LIST_SIZES = [10_000, 100_000] as const
const LIST_LOOKUPS = 100_000
/** Fresh processes each list is loaded in (the median is reported). */
const LIST_PROCESSES = 7
/** Fresh processes per cold start row, and per 40 MB run. */
const COLD_STARTS = 11
const LARGE_RUNS = 3
const LARGE_MESSAGE: BenchSize = { label: '40MB', bytes: 40 * 1024 * 1024 }

const TARGETS = {
  // Both are a few ms, so noisy; a message read for event-only rules would cost 30x or more.
  eventOnlyTimeRatio: 5,
  contentAboveIdleMb: 40,
  contentVsSimpleParser: 0.6,
  coldImportRatio: 0.7,
  coldStartVsPeer: 1,
  idleRssVsPeer: 1,
  largeMessagePeakMb: 110,
  // 10x the entries: about 10x the load if it is linear, about 100x if it were quadratic.
  listLoadScaling: 20,
  // The same recipients against 10x the entries: the same time per lookup without a linear scan.
  listLookupScaling: 2,
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
  let dynamo: DynamoServer | undefined
  try {
    printMachine()
    // Before the servers start: the peer's install and the package use the network and the CPU.
    const peerDir = await installPeer(log)
    log('packaging the service (npm run package, in a scratch copy) ...')
    const packaged = await packageBounce(work)

    s3 = await startS3Server({ buckets: [BUCKET] })
    ses = await startSesStub()
    const table = packaged.environment.IDEMPOTENCY_TABLE || 'ses-bouncer-bench-state'
    dynamo = await startDynamo({ tables: [{ name: table, partitionKey: 'id' }] })
    const s3Port = Number(new URL(s3.url).port)
    const counter = countRequests(s3Port)

    log('generating and storing messages ...')
    for (const size of [...SIZES, LARGE_MESSAGE]) {
      const bytes = benchMessage(size)
      await s3.putObject(BUCKET, `${PREFIX}${messageIdOf(size)}`, bytes)
      log(`  ${size.label}: ${bytes.length.toLocaleString('en-US')} bytes`)
    }
    await writeFile(join(work, 'event-only.yml'), EVENT_ONLY_RULES)
    await writeFile(join(work, 'content.yml'), CONTENT_RULES)

    const loopback = {
      ...dummyEnv,
      ...s3.env,
      AWS_ENDPOINT_URL_SES: ses.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
      MAIL_BUCKET: BUCKET,
      MAIL_PREFIX: PREFIX,
      AWS_LAMBDA_FUNCTION_NAME: 'ses-bouncer-bench-bounce',
    }
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ...loopback,
      POWERTOOLS_DEV: 'false',
      POWERTOOLS_METRICS_NAMESPACE: 'SesBouncerBench',
    }
    const rows = await measureSizes(work, childEnv, counter, ses)

    log('building and cold-importing the bounce bundle, lazy and eager ...')
    const compiledContent = await packageRules({ ...childEnv, RULES_FILE: join(work, 'content.yml') }, work)
    await writeFile(join(work, compiledContent.compiledName), compiledContent.text)
    const bundle = await measureBundles(work, {
      ...childEnv,
      RULES_FILE: join(work, compiledContent.compiledName),
    })

    // The packaged processes get only this environment: what Lambda would give them, plus the
    // loopback endpoints; the template's own variables are added for ours.
    const functionEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      ...loopback,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(packaged.memoryMb),
    }
    log(`cold starts: the packaged function, ${COLD_STARTS} fresh processes each, against the peer ...`)
    const coldStarts = await measureColdStarts(packaged, peerDir, work, functionEnv, COLD_STARTS)
    log(`a ${LARGE_MESSAGE.label} message through the packaged function, ${LARGE_RUNS} fresh processes ...`)
    const large = await measureLargeMessage(
      packaged,
      CONTENT_RULES,
      receiptEvent(messageIdOf(LARGE_MESSAGE), ['alice@example.com']),
      'STOP_RULE_SET',
      LARGE_MESSAGE.bytes,
      functionEnv,
      LARGE_RUNS,
    )

    log(
      `loading recipient lists of ${LIST_SIZES.map((n) => n.toLocaleString('en-US')).join(' and ')} entries ...`,
    )
    const lists = await measureLists(work, childEnv)

    const s3Server = s3
    const worst = await measureWorstCase({
      work,
      warmupMessageId: messageIdOf(SIZES[0] as BenchSize),
      store: (messageId, bytes) => s3Server.putObject(BUCKET, `${PREFIX}${messageId}`, bytes),
      runChild,
      nodeFlags: lambdaHeapFlags(packaged.memoryMb),
      env: { ...childEnv, IDEMPOTENCY_TABLE: '' },
      log,
    })

    printReport(rows, bundle, packaged, coldStarts, large, lists, worst)
  } finally {
    await dynamo?.close()
    await ses?.close()
    await s3?.close()
    await rm(work, { recursive: true, force: true })
  }
}

/** The in-process handler and the mailparser references, each size and rule set in a child. */
async function measureSizes(
  work: string,
  childEnv: NodeJS.ProcessEnv,
  counter: ReturnType<typeof countRequests>,
  ses: SesStub,
): Promise<Row[]> {
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
        // No ledger here: the in-process rows measure the decision and SendBounce.
        env: { ...childEnv, RULES_FILE: join(work, rulesFile), IDEMPOTENCY_TABLE: '' },
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
        handlerJob('event-only.yml', ['alice@example.com', 'ghost@example.com'], 'CONTINUE', EVENT_ONLY_RUNS),
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
  return rows
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

async function runChild<T>(job: Job, env: NodeJS.ProcessEnv, nodeFlags: readonly string[] = []): Promise<T> {
  const child = fork(join(import.meta.dirname, 'child.ts'), [JSON.stringify(job)], {
    execArgv: ['--expose-gc', ...nodeFlags, '--import', 'tsx'],
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

/** Each list size loaded in fresh processes, taking turns; the medians per size. */
async function measureLists(work: string, env: NodeJS.ProcessEnv): Promise<ListMeasurement[]> {
  const rulesFiles: string[] = []
  for (const entries of LIST_SIZES) {
    const listDir = join(work, `list-${entries}`)
    await mkdir(listDir)
    const mailboxes = Array.from({ length: entries }, (_, i) => `user${i}@example.com`)
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
    rulesFiles.push(rulesFile)
  }
  // A cold start's work, so each load is the first in a fresh process; the median of several.
  const runs: ListMeasurement[][] = rulesFiles.map(() => [])
  for (let i = 0; i < LIST_PROCESSES; i++) {
    for (const [index, rulesFile] of rulesFiles.entries()) {
      runs[index]?.push(
        await runChild<ListMeasurement>({ kind: 'list', rulesFile, lookups: LIST_LOOKUPS }, env),
      )
    }
  }
  return runs.map((sizeRuns) => ({
    ...(sizeRuns[0] as ListMeasurement),
    loadMs: median(sizeRuns.map((run) => run.loadMs)),
    lookupMs: median(sizeRuns.map((run) => run.lookupMs)),
  }))
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

const kib = (bytes: number): string => (bytes / 1024).toFixed(0)

function printReport(
  rows: readonly Row[],
  bundle: BundleMeasurement,
  packaged: Packaged,
  coldStarts: ColdStarts,
  large: LargeMessage,
  lists: readonly ListMeasurement[],
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
      ['bundle', 'variant', 'imported at cold start KiB', `import ms (median of ${bundle.lazyMs.length})`],
      [
        [
          'bounce',
          'as packaged (MIME, YAML and AWS SDK code on first use)',
          kib(bundle.lazyBytes),
          lazy.toFixed(1),
        ],
        ['bounce', 'every module imported eagerly', kib(bundle.eagerBytes), eager.toFixed(1)],
      ],
    ),
  )

  const flags = lambdaHeapFlags(packaged.memoryMb).join(' ')
  const node = FUNCTION_NODE === process.execPath ? `Node ${process.version}` : FUNCTION_NODE
  const coldRow = (name: string, start: ColdStarts[keyof ColdStarts]) => [
    name,
    median(start.wallMs).toFixed(0),
    median(start.importMs).toFixed(0),
    mb(median(start.idleRss)),
  ]
  console.log('')
  console.log(
    `packaged bounce function (npm run package): zip ${kib(packaged.zipBytes)} KiB, code ${kib(packaged.codeBytes)} KiB, ` +
      `${kib(packaged.eagerBytes)} KiB imported at cold start; MemorySize ${packaged.memoryMb}, run on ${node} as \`node ${flags}\``,
  )
  console.log(
    table(
      ['cold start (fresh processes, taking turns)', 'start + import ms', 'import ms', 'idle RSS MB'],
      [
        coldRow(`ses-bouncer bounce function (median of ${coldStarts.ours.wallMs.length})`, coldStarts.ours),
        coldRow(
          `ref: aws-lambda-ses-forwarder 6.0.0 (median of ${coldStarts.peer.wallMs.length})`,
          coldStarts.peer,
        ),
        coldRow(
          `ref: an empty handler, node alone (median of ${coldStarts.bare.wallMs.length})`,
          coldStarts.bare,
        ),
      ],
    ),
  )
  console.log('')
  console.log(
    table(
      ['message', 'what', 'runs', 'decide ms', 'decide CPU ms', 'peak RSS MB'],
      [
        [
          `${(large.messageBytes / 2 ** 20).toFixed(0)}MB`,
          'packaged function, cold, content rules (setup.exe last)',
          String(large.peakRss.length),
          median(large.decideMs).toFixed(0),
          median(large.decideCpuMs).toFixed(0),
          mb(median(large.peakRss)),
        ],
      ],
    ),
  )

  const [small, big] = lists as [ListMeasurement, ListMeasurement]
  const perLookupUs = (list: ListMeasurement) => (list.lookupMs * 1000) / list.lookups
  console.log('')
  console.log(
    table(
      [
        'recipient list',
        'load ms',
        `${LIST_LOOKUPS.toLocaleString('en-US')} recipients decided, ms`,
        'µs each',
        'known',
      ],
      lists.map((list) => [
        `${list.entries.toLocaleString('en-US')} entries (median of ${LIST_PROCESSES} fresh processes)`,
        list.loadMs.toFixed(1),
        list.lookupMs.toFixed(1),
        perLookupUs(list).toFixed(2),
        list.matched.toLocaleString('en-US'),
      ]),
    ),
  )

  const worstCase = worstCaseReport(worst)
  console.log('')
  console.log(
    table(['worst case (10 MB each)', 'message', 'MB', 'median ms', 'above idle MB'], worstCase.rows),
  )
  console.log(`(each in a fresh process with Lambda's heap flags for ${packaged.memoryMb} MB: \`${flags}\`)`)

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
  const ratio = (name: string, value: number, reference: number, target: number, unit = 'ms') =>
    [
      name,
      value / reference <= target,
      `${(value / reference).toFixed(2)}x (${value.toFixed(1)} / ${reference.toFixed(1)} ${unit})`,
    ] as [string, boolean, string]
  const coldOurs = median(coldStarts.ours.wallMs)
  const coldPeer = median(coldStarts.peer.wallMs)
  const largePeak = median(large.peakRss)
  const checks: [string, boolean, string][] = [
    [
      'event-only rules make no S3 request',
      eventS3 === 0,
      `${eventS3} requests in ${eventRows.reduce((sum, row) => sum + row.invocations, 0)} invocations`,
    ],
    ratio(
      `event-only: 30MB time <= ${TARGETS.eventOnlyTimeRatio}x 10KB`,
      event30m,
      event10k,
      TARGETS.eventOnlyTimeRatio,
    ),
    [
      `content rules, 30MB: RSS above idle <= ${TARGETS.contentAboveIdleMb} MB`,
      content30.peakRss - content30.idleRss <= TARGETS.contentAboveIdleMb * MB,
      `${mb(content30.peakRss - content30.idleRss)} MB`,
    ],
    ratio(
      `content rules, 30MB: time <= ${TARGETS.contentVsSimpleParser}x simpleParser`,
      median(content30.ms),
      simple30,
      TARGETS.contentVsSimpleParser,
    ),
    ratio(`cold import <= ${TARGETS.coldImportRatio}x eager bundle`, lazy, eager, TARGETS.coldImportRatio),
    ratio(
      `cold start <= ${TARGETS.coldStartVsPeer}x the peer's`,
      coldOurs,
      coldPeer,
      TARGETS.coldStartVsPeer,
    ),
    ratio(
      `idle RSS <= ${TARGETS.idleRssVsPeer}x the peer's`,
      median(coldStarts.ours.idleRss) / MB,
      median(coldStarts.peer.idleRss) / MB,
      TARGETS.idleRssVsPeer,
      'MB',
    ),
    [
      `40MB message, content rules: peak RSS <= ${TARGETS.largeMessagePeakMb} MB`,
      largePeak <= TARGETS.largeMessagePeakMb * MB,
      `${mb(largePeak)} MB (of ${packaged.memoryMb})`,
    ],
    ratio(
      `list load: ${big.entries / small.entries}x the entries <= ${TARGETS.listLoadScaling}x the time`,
      big.loadMs,
      small.loadMs,
      TARGETS.listLoadScaling,
    ),
    ratio(
      `list lookup: ${big.entries / small.entries}x the entries <= ${TARGETS.listLookupScaling}x the time`,
      big.lookupMs,
      small.lookupMs,
      TARGETS.listLookupScaling,
    ),
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
