// The worst-case row of `npm run bench` (issue 14): every adversarial message
// (test/fixtures/adversarial/cases.ts), padded to the size of the plain 10 MB benchmark message,
// decided by the real handler under the adversarial rules, each in a process of its own like the
// other rows; and the plain message under the same rules in the same run. The targets are ratios
// to that plain message, so that they hold on any machine: the slowest decision and the highest
// peak RSS above idle over the adversarial set.

import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ADVERSARIAL_RULES, adversarialCases } from '../../test/fixtures/adversarial/cases.js'
import { sesEventForMessage } from '../../test/support/hostile.js'
import type { Job, Measurement } from './child.js'
import { benchMessage } from './messages.js'
import { median } from './stats.js'

const MB = 1024 * 1024
/** Every adversarial message is padded to this size, the plain message's. */
const SIZE = 10 * MB
/** Timed runs per message, after three warm-up runs of a 10 KB message as the other rows. */
const RUNS = 3

export const WORST_CASE_TARGETS = {
  /**
   * The slowest adversarial decision, against the plain message's. What costs more than reading
   * is a part's header parse (mailsplit's, about 20 µs), bounded by the parts limit.
   */
  timeRatio: 8,
  /** The highest peak RSS above idle of an adversarial decision, against the plain message's. */
  memoryRatio: 2,
}

export interface WorstCaseDeps {
  /** A directory for the rules file. */
  readonly work: string
  /** A stored 10 KB message with an .exe to warm up with (bounced under the adversarial rules). */
  readonly warmupMessageId: string
  /** Stores a message where the handler reads it (`<prefix><messageId>`). */
  readonly store: (messageId: string, bytes: Buffer) => Promise<void>
  /** Runs a job in a process of its own with the given environment and node flags. */
  readonly runChild: <T>(job: Job, env: NodeJS.ProcessEnv, nodeFlags: readonly string[]) => Promise<T>
  /** The V8 heap flags Lambda runs the function with: what the function holds, not what V8 defers. */
  readonly nodeFlags: readonly string[]
  readonly env: NodeJS.ProcessEnv
  readonly log: (line: string) => void
}

export interface WorstCaseRow {
  readonly name: string
  readonly bytes: number
  readonly medianMs: number
  readonly aboveIdle: number
}

export interface WorstCase {
  readonly plain: WorstCaseRow
  readonly cases: readonly WorstCaseRow[]
}

export async function measureWorstCase(deps: WorstCaseDeps): Promise<WorstCase> {
  const rulesFile = join(deps.work, 'adversarial.yml')
  await writeFile(rulesFile, ADVERSARIAL_RULES)
  const env = { ...deps.env, RULES_FILE: rulesFile }
  const measure = async (name: string, bytes: Buffer, disposition: string): Promise<WorstCaseRow> => {
    const messageId = `worst-case.${name}`
    await deps.store(messageId, bytes)
    deps.log(`  ${name}: ${bytes.length.toLocaleString('en-US')} bytes`)
    const job: Job = {
      kind: 'handler',
      messageId,
      warmupMessageId: deps.warmupMessageId,
      warmupDisposition: 'STOP_RULE_SET',
      recipients: ['alice@example.com'],
      expectedDisposition: disposition,
      runs: RUNS,
      // the message's own header fields, as SES would put them in the event
      event: sesEventForMessage(messageId, bytes),
    }
    const measurement = await deps.runChild<Measurement>(job, env, deps.nodeFlags)
    return {
      name,
      bytes: bytes.length,
      medianMs: median(measurement.ms),
      aboveIdle: measurement.peakRss - measurement.idleRss,
    }
  }
  deps.log('measuring the adversarial set against a plain message of the same size ...')
  // setup.exe at the end of the plain message: no-executables bounces it
  const plain = await measure('plain', benchMessage({ label: '10MB', bytes: SIZE }), 'STOP_RULE_SET')
  const cases: WorstCaseRow[] = []
  for (const adversarial of adversarialCases()) {
    const disposition = adversarial.expected.startsWith('bounce') ? 'STOP_RULE_SET' : 'CONTINUE'
    cases.push(await measure(adversarial.name, adversarial.bytes(SIZE), disposition))
  }
  return { plain, cases }
}

/** The rows to print, and the two targets as [name, passed, measured]. */
export function worstCaseReport(result: WorstCase): {
  readonly rows: readonly string[][]
  readonly checks: readonly [string, boolean, string][]
} {
  const slowest = result.cases.reduce((a, b) => (b.medianMs > a.medianMs ? b : a))
  const largest = result.cases.reduce((a, b) => (b.aboveIdle > a.aboveIdle ? b : a))
  const mb = (bytes: number) => (bytes / MB).toFixed(1)
  const row = (what: string, r: WorstCaseRow) => [
    what,
    r.name,
    (r.bytes / MB).toFixed(1),
    r.medianMs.toFixed(1),
    mb(r.aboveIdle),
  ]
  const timeRatio = slowest.medianMs / result.plain.medianMs
  const memoryRatio = largest.aboveIdle / result.plain.aboveIdle
  return {
    rows: [
      row('plain message, same rules', result.plain),
      row('adversarial: slowest decision', slowest),
      row('adversarial: highest peak RSS', largest),
      ...result.cases.map((r) => row('  adversarial', r)),
    ],
    checks: [
      [
        `adversarial: slowest decision <= ${WORST_CASE_TARGETS.timeRatio}x plain message`,
        timeRatio <= WORST_CASE_TARGETS.timeRatio,
        `${timeRatio.toFixed(2)}x (${slowest.name}: ${slowest.medianMs.toFixed(1)} / ${result.plain.medianMs.toFixed(1)} ms)`,
      ],
      [
        `adversarial: peak RSS above idle <= ${WORST_CASE_TARGETS.memoryRatio}x plain message`,
        memoryRatio <= WORST_CASE_TARGETS.memoryRatio,
        `${memoryRatio.toFixed(2)}x (${largest.name}: ${mb(largest.aboveIdle)} / ${mb(result.plain.aboveIdle)} MB)`,
      ],
    ],
  }
}
