/**
 * The packaged handlers' smoke test: `serverless package --stage dev` (in a copy of the
 * repository, offline), then each function's zip unpacked and its handler loaded the way the
 * Lambda Node.js runtime does (the template's `Handler`, `<file>.js`, `.mjs` or `.cjs`, from the
 * unpacked root) by the Node that runs this script — .ci/run runs it on Node 22, Lambda's
 * nodejs22.x. Every sample receipt event must be decided as test/fixtures/events-expected.json
 * says; with LOG_ADDRESSES=hash no address may reach any line; the quota bundle must report on the
 * scheduled event against the SES stand-in.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startSesStub } from '../test/support/ses-stub.js'
import { type WorkCopy, workCopy } from './work-copy.js'

const root = join(import.meta.dirname, '..')
const run = promisify(execFile)
const EVENTS = join(root, 'events')
const ADDRESS = /[\p{L}\p{N}!#$%&'*+=?^_`{|}~.-]+@[\p{L}\p{N}-]+\.[\p{L}\p{N}.-]+/u

interface Expected {
  recipients: Record<string, { action: string; rule: string | null; guard: string | null }>
  problems?: string[]
}
type Line = Record<string, unknown>
interface Invocation {
  name: string
  result?: unknown
  error?: string
  lines: Line[]
}

/** Loads the handler as Lambda does and runs each event in turn; one JSON result per event. */
const DRIVER = `
import { existsSync, readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
const [handlerSpec, eventsFile] = process.argv.slice(1)
const dot = handlerSpec.lastIndexOf('.')
const base = process.env.LAMBDA_TASK_ROOT + '/' + handlerSpec.slice(0, dot)
const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((candidate) => existsSync(candidate))
if (file === undefined) throw new Error('no handler file for ' + handlerSpec)
const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) }
let chunks = []
process.stdout.write = process.stderr.write = (chunk, ...rest) => {
  chunks.push(String(chunk))
  rest.find((arg) => typeof arg === 'function')?.()
  return true
}
const module = await import(pathToFileURL(file).href)
const handler = module.handler ?? module.default?.handler
const context = (name) => ({
  functionName: name, functionVersion: '$LATEST', memoryLimitInMB: '256', awsRequestId: 'smoke-' + name,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:smoke', logGroupName: '/aws/lambda/smoke',
  logStreamName: 'smoke', callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 20000, done() {}, fail() {}, succeed() {},
})
// The cold start's lines go with the first invocation, as in the function's log stream.
for (const { name, event } of JSON.parse(readFileSync(eventsFile, 'utf8'))) {
  let outcome
  try { outcome = { result: await handler(event, context(name)) } } catch (error) { outcome = { error: String(error) } }
  const lines = chunks.join('').split('\\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line))
  write.out(JSON.stringify({ name, ...outcome, lines }) + '\\n')
  chunks = []
}
`

interface PackagedFunction {
  readonly dir: string
  readonly handler: string
  readonly environment: Record<string, string>
}

/** `serverless package --stage dev` in the copy, with the Node running this script; each zip unpacked. */
async function packageFunctions(copy: WorkCopy): Promise<Record<string, PackagedFunction>> {
  const repo = copy.root
  await run(
    process.execPath,
    [join(repo, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'dev'],
    {
      cwd: repo,
      env: copy.env(),
      timeout: 300_000,
    },
  )
  const template = JSON.parse(
    readFileSync(join(repo, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }
  const functions: Record<string, PackagedFunction> = {}
  for (const name of ['bounce', 'quota']) {
    const resource = template.Resources[`${name[0]?.toUpperCase()}${name.slice(1)}LambdaFunction`]
    if (resource === undefined) throw new Error(`no ${name} function in the template`)
    const unpacked = join(copy.root, '..', name)
    mkdirSync(unpacked)
    await run('unzip', ['-q', join(repo, '.serverless', `${name}.zip`), '-d', unpacked])
    const variables =
      (resource.Properties.Environment as { Variables?: Record<string, unknown> }).Variables ?? {}
    functions[name] = {
      dir: unpacked,
      handler: String(resource.Properties.Handler),
      // Plain values only: Refs and parameters are a deployment's business, not this test's.
      environment: Object.fromEntries(
        Object.entries(variables).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      ),
    }
  }
  return functions
}

let invocations = 0

async function invoke(
  fn: PackagedFunction,
  events: { name: string; event: unknown }[],
  env: Record<string, string>,
): Promise<Invocation[]> {
  // A file, not an argument: the samples together are larger than one argument may be (E2BIG).
  const eventsFile = join(fn.dir, '..', `events-${invocations++}.json`)
  writeFileSync(eventsFile, JSON.stringify(events))
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', DRIVER, fn.handler, eventsFile],
    {
      cwd: fn.dir,
      env: {
        PATH: process.env.PATH ?? '',
        ...fn.environment,
        LAMBDA_TASK_ROOT: fn.dir,
        AWS_LAMBDA_FUNCTION_NAME: 'ses-bouncer-smoke',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'smoke',
        AWS_SECRET_ACCESS_KEY: 'smoke',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...env,
      },
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    },
  )
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Invocation)
}

function receiptEvents(): { name: string; event: unknown }[] {
  const expected = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'events-expected.json'), 'utf8'))
  const now = new Date().toISOString()
  return Object.keys(expected)
    .sort()
    .map((name) => {
      const event = JSON.parse(readFileSync(join(EVENTS, `${name}.json`), 'utf8'))
      for (const record of event.Records) {
        record.ses.mail.timestamp = now
        record.ses.receipt.timestamp = now
      }
      return { name, event }
    })
}

function decisionProblem(invocation: Invocation, want: Expected): string | undefined {
  if (invocation.error !== undefined) return `threw ${invocation.error}`
  if (JSON.stringify(invocation.result) !== '{"disposition":"CONTINUE"}') {
    return `returned ${JSON.stringify(invocation.result)} (dry run)`
  }
  if (want.problems !== undefined) {
    const logged = invocation.lines.find((line) => Array.isArray(line.problems))?.problems
    return JSON.stringify(logged) === JSON.stringify(want.problems)
      ? undefined
      : `problems ${JSON.stringify(logged)}`
  }
  const decided = invocation.lines.find((line) => Array.isArray(line.recipients))?.recipients as
    | { recipient: string; action: string; rule: string | null; guard: string | null }[]
    | undefined
  const got = JSON.stringify(decided?.map((d) => [d.recipient, d.action, d.rule, d.guard]))
  const wanted = JSON.stringify(
    Object.entries(want.recipients).map(([r, d]) => [r, d.action, d.rule, d.guard]),
  )
  return got === wanted ? undefined : `decided ${got}, expected ${wanted}`
}

const failures: string[] = []
const report = (check: string, problem: string | undefined) => {
  console.log(
    `${problem === undefined ? 'ok  ' : 'FAIL'} ${check}${problem === undefined ? '' : `: ${problem}`}`,
  )
  if (problem !== undefined) failures.push(check)
}

const copy = workCopy()
try {
  const functions = await packageFunctions(copy)
  const bounce = functions.bounce as PackagedFunction
  const quota = functions.quota as PackagedFunction
  console.log(
    `packaged: ${readdirSync(bounce.dir).join(', ')} (handler ${bounce.handler}), on Node ${process.version}`,
  )

  const expected = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'events-expected.json'), 'utf8'))
  const events = receiptEvents()
  const sampleEnv = { RULES_FILE: join(EVENTS, 'bounce-rules.yml'), MAIL_DIR: EVENTS, DRY_RUN: 'true' }
  for (const invocation of await invoke(bounce, events, sampleEnv)) {
    report(`bounce ${invocation.name}`, decisionProblem(invocation, expected[invocation.name] as Expected))
  }

  const hashed = await invoke(bounce, events, {
    ...sampleEnv,
    LOG_ADDRESSES: 'hash',
    LOG_ADDRESS_KEY: 'smoke-test-key-0123456789abcdef0123',
  })
  const leaks = hashed
    .flatMap((invocation) => invocation.lines)
    .filter((line) => ADDRESS.test(JSON.stringify(line)))
  report(
    `bounce LOG_ADDRESSES=hash: ${hashed.flatMap((invocation) => invocation.lines).length} lines`,
    leaks.length === 0 ? undefined : `an address in ${JSON.stringify(leaks[0])}`,
  )

  const [withPackagedRules] = await invoke(bounce, events.slice(0, 1), { DRY_RUN: 'true' })
  report(
    'bounce with the packaged bounce-rules.yml',
    withPackagedRules?.error ?? (withPackagedRules?.result === undefined ? 'no result' : undefined),
  )

  const ses = await startSesStub()
  try {
    const scheduled = JSON.parse(readFileSync(join(EVENTS, 'scheduled.json'), 'utf8'))
    const [run] = await invoke(quota, [{ name: 'scheduled', event: scheduled }], {
      AWS_ENDPOINT_URL_SES: ses.url,
    })
    const health = run?.lines.find((line) => line.quota !== undefined && line.last14Days !== undefined)
    report('quota scheduled', run?.error ?? (health === undefined ? 'no sending-health line' : undefined))
  } finally {
    await ses.close()
  }
} catch (error) {
  report('package', (error as Error).message)
} finally {
  copy.remove()
}

const checks = failures.length === 0 ? 'every check passed' : `${failures.length} check(s) failed`
console.log(`packaged handler smoke test on Node ${process.version}: ${checks}`)
process.exitCode = failures.length === 0 ? 0 : 1
