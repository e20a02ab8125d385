/**
 * `npm run docs`: every sample file and sample output README.md and docs/ show, regenerated from
 * the real file and the real command. `npm run docs -- --check` changes nothing and exits 1
 * naming each block that drifted (test/integration/docs.test.ts runs it).
 *
 * A block is marked by an HTML comment on the line before its fence:
 *
 *   <!-- docs:file events/bounce-rules.yml -->        the block is that file, byte for byte
 *   <!-- docs:output COMMAND [| STEP]... -->          the block is `$ COMMAND` and what it prints
 *
 * Commands run with `sh -c` in a copy of the repository (scripts/work-copy.ts: offline, no
 * credentials), their standard output then standard error; `npx ses-bouncer` commands run in this
 * process, from the repository. Steps, in order:
 *
 *   with npm run local-ses   start that stand-in first (on a free port, AWS_ENDPOINT_URL_SES
 *                            pointing at it), stop it after
 *   exit N                   the command is expected to exit with N (default 0)
 *   head N                   only the first N lines, then a line "…"
 *   log PREFIX               the JSON log line whose message starts with PREFIX, one field after
 *                            another, wrapped at 100 columns
 *   sample-time              (quota log lines) the sample's data-point times, which local-ses
 *                            moves to "now" by whole minutes, moved back to the sample's own
 *
 * Normalised, deliberately: in log lines, the values that differ on every run (`timestamp`,
 * `at`, `function_request_id`, `durationMs`) are shown as "…"; the copy's own path, if a command
 * prints it, is left out so paths read relative to the repository.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { runCli } from '../src/cli/main.js'
import { readSendingSample } from './sending-health-demo.js'
import { freePort } from './stand-in.js'
import { ROOT, type WorkCopy, workCopy } from './work-copy.js'

export const DOCUMENTS = [
  'README.md',
  'docs/rules.md',
  'docs/operations.md',
  'docs/deploy.md',
  'docs/guarantees.md',
  'docs/performance.md',
  'docs/development.md',
]

const MARKER = /^<!-- docs:(file|output) (.+?) -->$/
const STAND_INS: Readonly<Record<string, string>> = {
  'npm run local-ses': 'AWS_ENDPOINT_URL_SES',
  'npm run local-s3': 'AWS_ENDPOINT_URL_S3',
}
/**
 * `npx ses-bouncer …` runs in this process, from the repository (its commands only read): the
 * same main() the bin calls, without the seconds npx and a fresh TypeScript loader cost each time.
 */
const SES_BOUNCER = 'npx ses-bouncer '
const VOLATILE_FIELDS = ['timestamp', 'at', 'function_request_id', 'durationMs']

export interface Drift {
  readonly document: string
  readonly line: number
  readonly marker: string
  readonly expected: string
  readonly actual: string
}

/** Regenerates every marked block; with `check`, writes nothing and returns what differs. */
export async function renderDocs({ check = false } = {}): Promise<Drift[]> {
  if (process.cwd() !== ROOT) throw new Error(`docs: run from ${ROOT}`)
  const drifts: Drift[] = []
  let copy: WorkCopy | undefined
  try {
    for (const document of DOCUMENTS) {
      const path = join(ROOT, document)
      const markdown = readFileSync(path, 'utf8')
      const lines = markdown.split('\n')
      const rendered: string[] = []
      for (let index = 0; index < lines.length; index++) {
        const line = lines[index] ?? ''
        rendered.push(line)
        const marker = MARKER.exec(line)
        if (marker === null) continue
        const [, kind = '', spec = ''] = marker
        const fence = lines[index + 1] ?? ''
        const close = lines.findIndex((candidate, at) => at > index + 1 && candidate.startsWith('```'))
        if (!fence.startsWith('```') || close === -1) {
          throw new Error(`${document}:${index + 1}: a docs marker must be followed by a fenced block`)
        }
        const body = lines.slice(index + 2, close).join('\n')
        if (kind === 'output' && copy === undefined) copy = workCopy()
        const actual =
          kind === 'file' || copy === undefined
            ? readFileSync(join(ROOT, spec), 'utf8').replace(/\n$/, '')
            : await commandOutput(spec, copy)
        if (actual !== body) {
          drifts.push({ document, line: index + 1, marker: `docs:${kind} ${spec}`, expected: body, actual })
        }
        rendered.push(fence, ...(actual === '' ? [] : actual.split('\n')), lines[close] ?? '```')
        index = close
      }
      const text = rendered.join('\n')
      if (!check && text !== markdown) writeFileSync(path, text)
    }
  } finally {
    copy?.remove()
  }
  return drifts
}

async function commandOutput(spec: string, copy: WorkCopy): Promise<string> {
  const [command = '', ...steps] = spec.split(' | ')
  let expectedExit = 0
  const env: Record<string, string> = {}
  const standIns: { stop(): Promise<void> }[] = []
  try {
    for (const step of steps) {
      const [name, ...rest] = step.split(' ')
      const argument = rest.join(' ')
      if (name === 'with') {
        const variable = STAND_INS[argument]
        if (variable === undefined) throw new Error(`docs: no stand-in "${argument}"`)
        const port = await freePort()
        standIns.push(await copy.startStandIn(argument, port))
        env[variable] = `http://127.0.0.1:${port}`
      } else if (name === 'exit') expectedExit = Number(argument)
    }
    const { code, stdout, stderr } = command.startsWith(SES_BOUNCER)
      ? await runCli(command.slice(SES_BOUNCER.length).split(' '), copy.env(env))
      : await copy.run(command, env)
    if (code !== expectedExit) {
      throw new Error(`docs: \`${command}\` exited ${code}, not ${expectedExit}:\n${stdout}\n${stderr}`)
    }
    let output = `${stdout}${stderr}`.replaceAll(`${copy.root}/`, '').replaceAll(copy.root, '.')
    for (const step of steps) output = await applyStep(step, output)
    const text = output
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')
      .replace(/^\n+|\n+$/g, '')
    // A log line is shown as JSON; other output after the command that printed it.
    return steps.some((step) => step.startsWith('log ')) ? text : `$ ${command}\n${text}`
  } finally {
    await Promise.all(standIns.map((standIn) => standIn.stop()))
  }
}

async function applyStep(step: string, output: string): Promise<string> {
  const [name = '', ...rest] = step.split(' ')
  const argument = rest.join(' ')
  switch (name) {
    case 'with':
    case 'exit':
      return output
    case 'head': {
      const lines = output.replace(/\n+$/, '').split('\n')
      const count = Number(argument)
      return lines.length <= count ? output : [...lines.slice(0, count), '…'].join('\n')
    }
    case 'log':
      return formatLogLine(logLine(output, argument))
    case 'sample-time':
      return formatLogLine(await atSampleTime(JSON.parse(output)))
    default:
      throw new Error(`docs: unknown step "${step}"`)
  }
}

function logLine(output: string, prefix: string): Record<string, unknown> {
  for (const line of output.split('\n')) {
    const entry = jsonObject(line)
    if (typeof entry?.message === 'string' && entry.message.startsWith(prefix)) {
      for (const field of VOLATILE_FIELDS) if (field in entry) entry[field] = '…'
      return entry
    }
  }
  throw new Error(`docs: no log line "${prefix}…" in:\n${output}`)
}

/** A log line's object; `undefined` for any other line (the returned value is printed indented). */
function jsonObject(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{"')) return undefined
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/** The data points' times back where the sample has them (local-ses moved them by whole minutes). */
async function atSampleTime(entry: Record<string, unknown>): Promise<Record<string, unknown>> {
  const sample = await readSendingSample()
  const latest = Math.max(
    ...sample.GetSendStatistics.SendDataPoints.map((point) => point.Timestamp.getTime()),
  )
  const shift = Date.parse(String(entry.lastPointAt)) - latest
  if (!Number.isInteger(shift / 60_000))
    throw new Error(`docs: the points moved by ${shift} ms, not whole minutes`)
  const back = (value: unknown) => new Date(Date.parse(String(value)) - shift).toISOString()
  return { ...entry, firstPointAt: back(entry.firstPointAt), lastPointAt: back(entry.lastPointAt) }
}

/** A JSON log line wrapped for reading: fields in order, as many to a line as fit in 100 columns. */
function formatLogLine(entry: Record<string, unknown>): string {
  const fields = Object.entries(entry).map(
    ([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`,
  )
  const lines: string[] = []
  let current = ''
  for (const field of fields) {
    if (current !== '' && current.length + field.length + 1 > 100) {
      lines.push(`${current},`)
      current = field
    } else current = current === '' ? field : `${current},${field}`
  }
  lines.push(current)
  return `{${lines.join('\n ')}}`
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const check = process.argv.includes('--check')
  const drifts = await renderDocs({ check })
  for (const drift of drifts) {
    console.log(`${drift.document}:${drift.line} ${drift.marker}: ${check ? 'differs' : 'updated'}`)
  }
  if (check && drifts.length > 0) process.exitCode = 1
}
