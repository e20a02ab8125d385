// The adversarial messages of issue 14 (test/fixtures/adversarial/cases.ts) through the real
// handler: each is decided, deliberately and in time, as the case expects — under the default
// onUnreadable (continue) and with onUnreadable bouncing, so that a limit never turns the
// attachment rule off: an .exe read before a limit bounces either way, and a message cut off
// before anything matched is the operator's choice. Timing here only catches a hang; the figures
// are `npm run bench`'s worst-case row.

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  ADVERSARIAL_RULES,
  ADVERSARIAL_RULES_BOUNCING,
  type AdversarialCase,
  adversarialCases,
} from '../fixtures/adversarial/cases.js'
import { type BounceHandler, coldStartBounceHandler, invokeBounce } from '../support/bounce-handler.js'
import {
  MB,
  measurePeakRss,
  outcomeLines,
  outcomeOf,
  sesEventForMessage,
  within,
} from '../support/hostile.js'
import type { LogLine } from '../support/lambda.js'
import { type SesStub, startSesStub } from '../support/ses-stub.js'

const CASE_TIME_LIMIT_MS = 10_000
/** The bound: no decision takes 64 MB above what the process held before it. */
const RSS_LIMIT_BYTES = 64 * MB

const cases: AdversarialCase[] = adversarialCases()
const messageIdOf = (adversarial: AdversarialCase) => `adversarial.${adversarial.name}`
const observed: string[] = []

let ses: SesStub
let mailDir: string
let rulesDir: string
let continuing: BounceHandler
let bouncing: BounceHandler

beforeAll(async () => {
  ses = await startSesStub()
  mailDir = await mkdtemp(join(tmpdir(), 'adversarial-mail-'))
  rulesDir = await mkdtemp(join(tmpdir(), 'adversarial-rules-'))
  for (const adversarial of cases) {
    await writeFile(join(mailDir, `${messageIdOf(adversarial)}.eml`), adversarial.bytes())
  }
  await writeFile(join(rulesDir, 'continue.yml'), ADVERSARIAL_RULES)
  await writeFile(join(rulesDir, 'bounce.yml'), ADVERSARIAL_RULES_BOUNCING)
  const env = { MAIL_DIR: mailDir, AWS_ENDPOINT_URL_SES: ses.url }
  bouncing = await coldStartBounceHandler({ ...env, RULES_FILE: join(rulesDir, 'bounce.yml') })
  continuing = await coldStartBounceHandler({ ...env, RULES_FILE: join(rulesDir, 'continue.yml') })
  // warm-up: the MIME code and the pattern engine load on first use
  for (const handler of [continuing, bouncing]) {
    const first = cases[0] as AdversarialCase
    await invokeBounce(handler, sesEventForMessage(messageIdOf(first), first.bytes()))
  }
}, 60_000)

afterAll(async () => {
  vi.unstubAllEnvs()
  await ses?.close()
  await Promise.all([mailDir, rulesDir].map((dir) => dir && rm(dir, { recursive: true, force: true })))
  if (process.env.ADVERSARIAL_REPORT) console.log(observed.join('\n'))
})

afterEach(() => {
  ses.reset()
})

async function decide(handler: BounceHandler, adversarial: AdversarialCase) {
  const bytes = adversarial.bytes()
  const event = sesEventForMessage(messageIdOf(adversarial), bytes)
  const measured = await measurePeakRss(() =>
    within(invokeBounce(handler, event), CASE_TIME_LIMIT_MS, adversarial.name),
  )
  const { result, error, lines } = measured.value
  expect(error, `${adversarial.name} threw: ${error?.stack}`).toBeUndefined()
  const outcomes = outcomeLines(lines)
  expect(outcomes, JSON.stringify(lines).slice(0, 2000)).toHaveLength(1)
  const line = outcomes[0] as LogLine
  return { result, line, lines, outcome: outcomeOf(line), ...measured, size: bytes.length }
}

describe('adversarial messages through the real handler (MAIL_DIR, SES stub)', () => {
  it.each(cases.map((adversarial) => [adversarial.name, adversarial] as const))(
    '%s: decided as expected, in time and memory',
    async (name, adversarial) => {
      const { result, line, lines, outcome, ms, peakRssIncrease, size } = await decide(
        continuing,
        adversarial,
      )
      expect(outcome, `${name}: ${JSON.stringify(line)}`).toBe(adversarial.expected)
      expect(line.factsRead).toBe('content')
      const bounced = outcome.startsWith('bounce')
      expect(result).toEqual({ disposition: bounced ? 'STOP_RULE_SET' : 'CONTINUE' })
      expect(ses.requestsFor('SendBounce')).toHaveLength(bounced ? 1 : 0)

      // a message cut off says so: a warning with the limit, and the MessagesCutOff metric
      const cutOff = line.cutOff as { limits: string[] } | undefined
      if (adversarial.expected.endsWith(':onUnreadable')) {
        expect(line.level).toBe('WARN')
        expect(cutOff?.limits.length, JSON.stringify(line)).toBeGreaterThan(0)
        const emf = lines.filter((entry) => entry._aws !== undefined)
        expect(emf.find((entry) => 'Messages' in entry)?.MessagesCutOff, JSON.stringify(emf)).toBe(1)
        expect(emf.find((entry) => entry.Rule === 'onUnreadable')?.Accepted).toBe(1)
      }
      expect(ms).toBeLessThan(CASE_TIME_LIMIT_MS)
      expect(peakRssIncrease, `${name}: peak RSS +${(peakRssIncrease / MB).toFixed(1)} MB`).toBeLessThan(
        RSS_LIMIT_BYTES,
      )
      observed.push(
        `| ${name} | ${size} | ${outcome} | ${cutOff?.limits.join('; ') ?? ''} | ${(peakRssIncrease / MB).toFixed(1)} MB | ${ms.toFixed(0)} ms |`,
      )
    },
    CASE_TIME_LIMIT_MS * 2,
  )

  it.each(
    cases
      .filter((adversarial) => adversarial.expected !== adversarial.expectedBouncing)
      .map((adversarial) => [adversarial.name, adversarial] as const),
  )('%s with onUnreadable bouncing: bounced by onUnreadable', async (name, adversarial) => {
    const { result, outcome, line } = await decide(bouncing, adversarial)
    expect(outcome, `${name}: ${JSON.stringify(line)}`).toBe(adversarial.expectedBouncing)
    expect(result).toEqual({ disposition: 'STOP_RULE_SET' })
    const [send] = ses.requestsFor('SendBounce')
    expect(send?.params['BouncedRecipientInfoList.member.1.Recipient']).toBe('alice@example.com')
    expect(send?.params['BouncedRecipientInfoList.member.1.RecipientDsnFields.Status']).toBe('5.7.1')
  })
})
