/**
 * `serverless invoke local` on every sample event in events/, as a user would run it, with the
 * Node that runs this script (.ci/run runs it on Node 20 and on Node 22). Each receipt event must
 * come out as test/fixtures/events-expected.json says (stage "local": the sample rules, dry run);
 * the scheduled event runs the quota function against the SES stand-in the tests use.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type Expected, expectedOutcomes } from '../test/support/events.js'
import { startSesStub } from '../test/support/ses-stub.js'

const root = join(import.meta.dirname, '..')
const serverless = join(root, 'node_modules', 'osls', 'bin', 'serverless.js')
const run = promisify(execFile)

type Line = Record<string, unknown>

const expected = expectedOutcomes

/** The log lines and the result `invoke local` prints for one event. */
async function invokeLocal(fn: string, eventFile: string, env: NodeJS.ProcessEnv = {}) {
  const { stdout, stderr } = await run(
    process.execPath,
    [serverless, 'invoke', 'local', '-f', fn, '-p', eventFile],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...env,
      },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  )
  // Powertools writes WARN and ERROR lines to stderr, the others to stdout.
  const lines = `${stdout}\n${stderr}`
    .split('\n')
    .filter((line) => line.startsWith('{"'))
    .map((line) => JSON.parse(line) as Line)
  const result = JSON.parse(stdout.slice(stdout.lastIndexOf('\n{\n') + 1)) as Line
  return { lines, result }
}

function receiptProblem(name: string, want: Expected, lines: Line[], result: Line): string | undefined {
  if (result.disposition !== 'CONTINUE')
    return `returned ${JSON.stringify(result)} (stage local is a dry run)`
  if (want.problems !== undefined) {
    const logged = lines.find((line) => Array.isArray(line.problems))?.problems
    return JSON.stringify(logged) === JSON.stringify(want.problems)
      ? undefined
      : `problems ${JSON.stringify(logged)}, expected ${JSON.stringify(want.problems)}`
  }
  const decided = lines.find((line) => Array.isArray(line.recipients))?.recipients as
    | { recipient: string; action: string; rule: string | null; guard: string | null }[]
    | undefined
  if (decided === undefined) return 'no decision line'
  const got = Object.fromEntries(decided.map((d) => [d.recipient, `${d.action}/${d.rule}/${d.guard}`]))
  const wanted = Object.fromEntries(
    Object.entries(want.recipients).map(([r, d]) => [r, `${d.action}/${d.rule}/${d.guard}`]),
  )
  return JSON.stringify(got) === JSON.stringify(wanted)
    ? undefined
    : `decided ${JSON.stringify(got)}, expected ${JSON.stringify(wanted)} (${name})`
}

// Case names on the command line run just those (`scheduled` for the quota function).
const only = process.argv.slice(2)
const wanted = (name: string) => only.length === 0 || only.includes(name)
const failures: string[] = []
const names = Object.keys(expected).sort().filter(wanted)
for (const name of names) {
  const want = expected[name] as Expected
  try {
    const { lines, result } = await invokeLocal('bounce', `events/${name}.json`)
    const problem = receiptProblem(name, want, lines, result)
    console.log(`${problem === undefined ? 'ok  ' : 'FAIL'} bounce ${name}${problem ? `: ${problem}` : ''}`)
    if (problem !== undefined) failures.push(name)
  } catch (error) {
    console.log(`FAIL bounce ${name}: ${(error as Error).message}`)
    failures.push(name)
  }
}

/** The quota function on the schedule's event, against the SES stand-in: one line, every figure. */
async function scheduledProblem(): Promise<string | undefined> {
  const ses = await startSesStub()
  try {
    const { lines, result } = await invokeLocal('quota', 'events/scheduled.json', {
      AWS_ENDPOINT_URL_SES: ses.url,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    })
    const health = lines.find((line) => line.quota !== undefined && line.last14Days !== undefined)
    if (health === undefined || typeof result.at !== 'string') return `returned ${JSON.stringify(result)}`
    return ses.requestsFor('GetSendQuota').length === 1 ? undefined : 'GetSendQuota was not called once'
  } catch (error) {
    return (error as Error).message
  } finally {
    await ses.close()
  }
}

if (wanted('scheduled')) {
  const problem = await scheduledProblem()
  console.log(`${problem === undefined ? 'ok  ' : 'FAIL'} quota scheduled${problem ? `: ${problem}` : ''}`)
  if (problem !== undefined) failures.push('scheduled')
}

const total = names.length + (wanted('scheduled') ? 1 : 0)
console.log(
  `invoke local on Node ${process.version}: ${total - failures.length} of ${total} sample events as expected`,
)
process.exitCode = failures.length === 0 ? 0 : 1
