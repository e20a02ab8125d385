// Hostile input through the real handler: every case of the hostile corpus
// (test/fixtures/hostile) stored in a MAIL_DIR and decided for a known recipient, so the content
// rules force a parse; and odd addresses in receipt.recipients and mail.source. Each case must
// end in a deliberate, logged decision — never a crash, a hang, unbounded memory or silence.

import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { expectedFilenames, type HostileCase, hostileMessages } from '../fixtures/hostile/corpus.js'
import { type BounceHandler, coldStartBounceHandler, invokeBounce } from '../support/bounce-handler.js'
import { EVENTS_DIR, receiptEvent } from '../support/events.js'
import {
  acceptedEventFor,
  MB,
  measurePeakRss,
  outcomeLines,
  outcomeOf,
  sampleRulesForcingParse,
  within,
} from '../support/hostile.js'
import type { LogLine } from '../support/lambda.js'
import { type SesStub, startSesStub } from '../support/ses-stub.js'

const CASE_TIME_LIMIT_MS = 10_000
const DISPOSITIONS = ['CONTINUE', 'STOP_RULE_SET']
/** The globs of the sample rule `no-executables`. */
const EXECUTABLE = /\.(exe|scr|js|bat|vbs|cmd)$/i
const ACCEPTED_MESSAGE_ID = 'acceptedt99h7t1fkcjpkvad8t8lmeyjflu1gv6x'

/**
 * Peak RSS increase allowed per case. The largest case is 1 MiB (header-line-1mb); the parser may
 * hold its head (a 1 MiB line, decoded once more as a string: 2–3 MiB) plus stream buffers and
 * whatever V8 allocates for young-generation garbage before a scavenge (up to 16–32 MiB of
 * semi-space on Node 20). Observed (HOSTILE_INPUT_REPORT=1 prints it): 28–33 MB for
 * attachments-5000, short-lived garbage of 5,000 part streams (retained heap after a GC is under
 * 1 MB), and under 10 MB for every other case. 64 MiB is a quarter of the 256 MB the test context
 * gives the function: twice the worst case seen, yet far below what a parser that buffered every
 * part, or the decoded message several times over, would need.
 */
const RSS_LIMIT_BYTES = 64 * MB

type Decision = { recipient: string; action: string; rule: string | null; guard: string | null }

/**
 * What each case is decided as, for alice@example.com under the sample rules (size limit raised
 * so the parse always happens): `bounce:<rule>`, `accept`, or `unreadable`. Every case whose
 * expected filenames name an executable bounces by no-executables — none slips through as accept.
 */
const EXPECTED_OUTCOME: Record<string, string> = {
  'truncated-base64-attachment': 'accept',
  'multipart-missing-boundary': 'accept',
  'multipart-wrong-boundary': 'accept',
  'multipart-boundary-prefix-only': 'accept',
  'nested-multipart-100': 'bounce:no-executables',
  'header-line-1mb': 'bounce:no-executables',
  'nul-bytes': 'bounce:no-executables',
  'invalid-base64': 'bounce:no-executables',
  'raw-8bit-headers': 'bounce:no-executables',
  'attachments-5000': 'accept',
  'empty-message': 'accept',
  'only-crlf': 'accept',
  'headers-only-no-body': 'accept',
  'lf-only-line-endings': 'bounce:no-executables',
  'bare-cr-in-header': 'accept',
  'rfc2047-encoded-filename': 'bounce:no-executables',
  'rfc2231-continuations': 'bounce:no-executables',
  'content-type-garbage-params': 'bounce:no-executables',
  'duplicate-content-type': 'bounce:no-executables',
  'boundary-64kb': 'bounce:no-executables',
  'inline-disposition-scr': 'bounce:no-executables',
  'uuencode-in-text-plain': 'accept',
  'lines-998-plus': 'bounce:no-executables',
}

const cases: HostileCase[] = hostileMessages()
const messageIdOf = (hostile: HostileCase) => `hostile.${hostile.name}`

let ses: SesStub
let mailDir: string
let rulesDir: string
let handler: BounceHandler
const observed: string[] = []

beforeAll(async () => {
  ses = await startSesStub()
  mailDir = await mkdtemp(join(tmpdir(), 'hostile-mail-'))
  rulesDir = await mkdtemp(join(tmpdir(), 'hostile-rules-'))
  await Promise.all([
    ...cases.map((hostile) => writeFile(join(mailDir, `${messageIdOf(hostile)}.eml`), hostile.bytes)),
    copyFile(join(EVENTS_DIR, `${ACCEPTED_MESSAGE_ID}.eml`), join(mailDir, `${ACCEPTED_MESSAGE_ID}.eml`)),
  ])
  // One warm container for every case, as Lambda would reuse it.
  handler = await coldStartBounceHandler({
    MAIL_DIR: mailDir,
    AWS_ENDPOINT_URL_SES: ses.url,
    RULES_FILE: await sampleRulesForcingParse(rulesDir),
  })
  // Warm-up: loads mailparser and libmime (lazily imported on the first parse), so module loading
  // is not counted as the first case's memory.
  const warm = await invokeBounce(handler, receiptEvent('accepted'))
  if (warm.result?.disposition !== 'CONTINUE') throw new Error(`warm-up failed: ${JSON.stringify(warm)}`)
})

afterAll(async () => {
  vi.unstubAllEnvs()
  await ses?.close()
  await Promise.all([mailDir, rulesDir].map((dir) => dir && rm(dir, { recursive: true, force: true })))
  if (process.env.HOSTILE_INPUT_REPORT) console.log(observed.join('\n'))
})

afterEach(() => {
  ses.reset()
})

describe('hostile corpus through the real handler (MAIL_DIR, SES stub)', () => {
  it('covers every case of the corpus with an expected outcome', () => {
    expect(Object.keys(EXPECTED_OUTCOME).sort()).toEqual(cases.map((hostile) => hostile.name).sort())
  })

  it.each(cases.map((hostile) => [hostile.name, hostile] as const))(
    '%s: decided deliberately, within time and memory',
    async (name, hostile) => {
      const {
        value: invocation,
        peakRssIncrease,
        ms,
      } = await measurePeakRss(() =>
        within(invokeBounce(handler, acceptedEventFor(messageIdOf(hostile))), CASE_TIME_LIMIT_MS, name),
      )
      const { result, error, lines } = invocation

      // Never a crash: the handler resolves with a valid disposition.
      expect(error, `${name} threw: ${error?.stack}`).toBeUndefined()
      expect(Object.keys(result ?? {})).toEqual(['disposition'])
      expect(DISPOSITIONS).toContain(result?.disposition)

      // Exactly one outcome line: a decision, or an error naming why the message is unreadable.
      const outcomes = outcomeLines(lines)
      expect(outcomes, JSON.stringify(lines)).toHaveLength(1)
      const [line] = outcomes as [LogLine]
      expect(lines.filter((entry) => String(entry.message).startsWith('failed;'))).toEqual([])
      if (line.level === 'ERROR') {
        expect(line.message).toMatch(/^message not decided/)
        expect(JSON.stringify(line.error)).toMatch(/could not be parsed: \S+/)
        expect(line.recipients).toEqual([])
        expect(result).toEqual({ disposition: 'CONTINUE' })
        expect(ses.requestsFor('SendBounce')).toHaveLength(0)
      } else {
        expect(line.level).toBe('INFO')
        expect(line.message).toBe('message decided')
        expect(line.factsRead).toBe('content')
        const decisions = line.recipients as Decision[]
        expect(decisions.map((decision) => decision.recipient)).toEqual(['alice@example.com'])
        const bounced = decisions.some((decision) => decision.action === 'bounce')
        expect(result).toEqual({ disposition: bounced ? 'STOP_RULE_SET' : 'CONTINUE' })
        expect(ses.requestsFor('SendBounce')).toHaveLength(bounced ? 1 : 0)
      }

      // An executable the corpus documents is never silently accepted.
      const outcome = outcomeOf(line)
      if (expectedFilenames(hostile).some((filename) => EXECUTABLE.test(filename))) {
        expect(['bounce:no-executables', 'unreadable'], `${name} let an executable through`).toContain(
          outcome,
        )
      }
      expect(outcome).toBe(EXPECTED_OUTCOME[name])

      expect(ms).toBeLessThan(CASE_TIME_LIMIT_MS)
      expect(peakRssIncrease, `${name}: peak RSS +${(peakRssIncrease / MB).toFixed(1)} MB`).toBeLessThan(
        RSS_LIMIT_BYTES,
      )
      observed.push(
        `| ${name} | ${hostile.bytes.length} | ${outcome} | ${(peakRssIncrease / MB).toFixed(1)} MB | ${ms.toFixed(0)} ms |`,
      )
    },
    CASE_TIME_LIMIT_MS * 2,
  )
})

describe('odd addresses in receipt.recipients and mail.source (sample rules)', () => {
  let sample: BounceHandler
  beforeAll(async () => {
    sample = await coldStartBounceHandler({ MAIL_DIR: EVENTS_DIR, AWS_ENDPOINT_URL_SES: ses.url })
  })

  function oddEvent(recipients: string[], source?: string) {
    const event = receiptEvent('accepted')
    const { mail, receipt } = event.Records[0].ses
    receipt.recipients = recipients
    if (source !== undefined) mail.source = source
    return event
  }

  async function decide(recipients: string[], source?: string) {
    const { result, error, lines } = await within(
      invokeBounce(sample, oddEvent(recipients, source)),
      CASE_TIME_LIMIT_MS,
      `recipients ${JSON.stringify(recipients)} from ${JSON.stringify(source)}`,
    )
    expect(error, error?.stack).toBeUndefined()
    const outcomes = outcomeLines(lines)
    expect(outcomes, JSON.stringify(lines)).toHaveLength(1)
    const [line] = outcomes as [LogLine]
    expect(line.message).toBe(
      line.recipientsNeverBounced === undefined
        ? 'message decided'
        : 'message decided; recipients SES would never send were not bounced',
    )
    const decided = Object.fromEntries(
      (line.recipients as Decision[]).map(({ recipient, action, rule, guard }) => [
        recipient,
        [action, rule, guard].filter((part) => part !== null).join(':'),
      ]),
    )
    const sends = ses.requestsFor('SendBounce')
    expect(sends.length).toBeLessThanOrEqual(1)
    return { result, decided, send: sends[0], neverBounced: line.recipientsNeverBounced }
  }

  /** Every `BouncedRecipientInfoList.member.N.Recipient` of the request, in order. */
  function bouncedRecipients(params: Record<string, string>): string[] {
    const recipients: string[] = []
    for (let n = 1; `BouncedRecipientInfoList.member.${n}.Recipient` in params; n += 1) {
      recipients.push(params[`BouncedRecipientInfoList.member.${n}.Recipient`] as string)
    }
    return recipients
  }

  /**
   * Decided one by one, the first matching rule of the sample: alice in any spelling SES could
   * give (angle brackets, upper case) is a mailbox of mailboxes.txt and accepted; every other one
   * is unknown and bounced — except `postmaster`, which bounce rules pass over (RFC 5321 §4.5.1:
   * every domain must accept it, bare `<Postmaster>` included) — and the IDN domain in either
   * form is unknown (mailboxes.txt names neither; U-label and A-label are not unified).
   */
  const ODD_RECIPIENTS: Record<string, string> = {
    'alice@example.com': 'accept',
    '<alice@example.com>': 'accept',
    'ALICE@EXAMPLE.COM': 'accept',
    ' Alice+Tag@Example.COM. ': 'accept',
    '"john doe"@example.com': 'bounce:unknown-recipient',
    'jörg@bücher.example': 'bounce:unknown-recipient',
    'user@xn--bcher-kva.example': 'bounce:unknown-recipient',
    postmaster: 'accept',
    'Postmaster@Example.com': 'accept',
    '"alice@example.com"@evil.example': 'bounce:unknown-recipient',
    'alice@example.com@evil.example': 'bounce:unknown-recipient',
  }

  it('decides each odd recipient deterministically and bounces only exact strings SES gave', async () => {
    const recipients = Object.keys(ODD_RECIPIENTS)
    const first = await decide(recipients)
    expect(first.decided).toEqual(ODD_RECIPIENTS)
    expect(first.result).toEqual({ disposition: 'CONTINUE' })
    // Spellings SES never gives in receipt.recipients are decided, never bounced, and named.
    expect(first.neverBounced).toEqual([
      { recipient: '<alice@example.com>', problem: 'angle brackets' },
      { recipient: ' Alice+Tag@Example.COM. ', problem: 'white space' },
      { recipient: 'postmaster', problem: 'no domain' },
    ])
    const bounced = bouncedRecipients(first.send?.params ?? {})
    expect(bounced).toEqual(recipients.filter((recipient) => ODD_RECIPIENTS[recipient] !== 'accept'))
    // Byte for byte: what SendBounce names is a recipient of the original message, as SES spelled it.
    for (const recipient of bounced) {
      expect(recipients.some((given) => Buffer.from(given).equals(Buffer.from(recipient)))).toBe(true)
    }

    // The same decisions whatever the order.
    ses.reset()
    const again = await decide([...recipients].reverse())
    expect(again.decided).toEqual(ODD_RECIPIENTS)
  })

  /**
   * For recipients [alice@example.com, nobody@example.com]: alice is accepted, nobody is bounced
   * unless the sender is a null sender (`<>`, empty, unparseable, MAILER-DAEMON: guard nullSender
   * drops the bounce, RFC 5321 §4.5.5) or blocked (blocked-senders.txt, `*@spam.example`, matched
   * after case folding and BATV unwrapping, drops both recipients).
   */
  const ODD_SOURCES: Record<string, { alice: string; nobody: string }> = {
    '<>': { alice: 'accept', nobody: 'drop:unknown-recipient:nullSender' },
    '': { alice: 'accept', nobody: 'drop:unknown-recipient:nullSender' },
    '""': { alice: 'accept', nobody: 'drop:unknown-recipient:nullSender' },
    'MAILER-DAEMON': { alice: 'accept', nobody: 'drop:unknown-recipient:nullSender' },
    'MAILER-DAEMON@mx.sender.example': { alice: 'accept', nobody: 'drop:unknown-recipient:nullSender' },
    'prvs=1234abcd=bob@example.org': { alice: 'accept', nobody: 'bounce:unknown-recipient' },
    '"quoted sender"@example.org': { alice: 'accept', nobody: 'bounce:unknown-recipient' },
    '<bob@example.org>': { alice: 'accept', nobody: 'bounce:unknown-recipient' },
    'jörg@bücher.example': { alice: 'accept', nobody: 'bounce:unknown-recipient' },
    'δοκιμή@παράδειγμα.example': { alice: 'accept', nobody: 'bounce:unknown-recipient' },
    'Mallory@SPAM.Example': { alice: 'drop:blocked-senders', nobody: 'drop:blocked-senders' },
    'prvs=0badc0de=mallory@spam.example': { alice: 'drop:blocked-senders', nobody: 'drop:blocked-senders' },
  }

  it.each(Object.entries(ODD_SOURCES))('mail.source %j: %j', async (source, expected) => {
    const { result, decided, send } = await decide(['alice@example.com', 'nobody@example.com'], source)
    expect(decided).toEqual({ 'alice@example.com': expected.alice, 'nobody@example.com': expected.nobody })
    expect(result).toEqual({ disposition: expected.alice === 'accept' ? 'CONTINUE' : 'STOP_RULE_SET' })
    if (expected.nobody.startsWith('bounce')) {
      expect(bouncedRecipients(send?.params ?? {})).toEqual(['nobody@example.com'])
    } else {
      expect(send).toBeUndefined()
    }
  })
})

/**
 * Regression (found by test/integration/random-bytes.property.test.ts): a part whose
 * Content-Type header is present but names no type (`Content-Type: ;`, empty, or only a comment)
 * comes out of mailparser as an attachment with `contentType: false`; the adapter called
 * `.toLowerCase()` on it inside mailparser's `data` event, an uncaught exception that killed the
 * invocation — and so let the executable through unbounced.
 */
describe('regression: attachment whose Content-Type names no type', () => {
  const typeless = (contentType: string) =>
    Buffer.from(
      [
        'From: Sam Sender <sam@sender.example>',
        'To: alice@example.com',
        'Subject: typeless attachment',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="=_typeless"',
        '',
        '--=_typeless',
        'Content-Type: text/plain; charset=us-ascii',
        '',
        'See the attachment.',
        '--=_typeless',
        `Content-Type:${contentType}`,
        'Content-Disposition: attachment; filename="invoice.exe"',
        'Content-Transfer-Encoding: base64',
        '',
        'TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        '--=_typeless--',
        '',
      ].join('\r\n'),
    )

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['parameters only', ' ; name="invoice.exe"'],
    ['comment only', ' (no type here)'],
  ])('%s Content-Type: bounced by no-executables, not a crash', async (label, contentType) => {
    const messageId = `typeless.${label.replace(/\W/g, '-')}`
    await writeFile(join(mailDir, `${messageId}.eml`), typeless(contentType))
    const { result, error, lines } = await within(
      invokeBounce(handler, acceptedEventFor(messageId)),
      CASE_TIME_LIMIT_MS,
      label,
    )
    expect(error, error?.stack).toBeUndefined()
    expect(result).toEqual({ disposition: 'STOP_RULE_SET' })
    const outcomes = outcomeLines(lines)
    expect(outcomes).toHaveLength(1)
    expect(outcomeOf(outcomes[0] as LogLine)).toBe('bounce:no-executables')
    expect(ses.requestsFor('SendBounce')).toHaveLength(1)
  })
})
