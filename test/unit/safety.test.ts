import { describe, expect, it } from 'vitest'
import { bounceSpec } from '../../src/domain/bounce-spec.js'
import { decide } from '../../src/domain/decide.js'
import type { GuardName } from '../../src/domain/decision.js'
import type { ReceivedMessage } from '../../src/domain/message.js'
import type { Rule } from '../../src/domain/rules.js'
import { DEFAULT_SAFETY, type SafetySettings, safetyGuard } from '../../src/domain/safety.js'
import { content, facts, header, receivedMessage, ruleSetFromYaml, rulesYaml } from './support/builders.js'

const BOUNCE_ALL: Rule = {
  name: 'unknown',
  conditions: [],
  action: { kind: 'bounce', bounce: bounceSpec({ type: 'DoesNotExist' }) },
}

const only = (overrides: Partial<SafetySettings>): SafetySettings => ({
  nullSender: false,
  autoSubmitted: false,
  spam: false,
  virus: false,
  forgedSender: false,
  maxBouncesPerSender: 10,
  ...overrides,
})

function guardOf(message: ReceivedMessage, safety: SafetySettings = DEFAULT_SAFETY) {
  return safetyGuard(safety, facts(message))
}

/** What decide() does to a bounce under the given settings: the resulting action and guard. */
function bounceUnder(message: ReceivedMessage, safety: SafetySettings = DEFAULT_SAFETY) {
  const outcome = decide([BOUNCE_ALL], safety, facts(message))
  if (outcome.kind !== 'decided') return outcome
  const [decision] = outcome.decisions
  return decision?.action === 'drop'
    ? { action: 'drop', guard: decision.guard }
    : { action: decision?.action }
}

const withHeaders = (...headers: ReturnType<typeof header>[]) =>
  receivedMessage({ headers: [header('Content-Type', 'text/plain'), ...headers] })

describe('defaults', () => {
  it('every guard is on, and 10 bounces per sender per hour', () => {
    expect(DEFAULT_SAFETY).toEqual({
      nullSender: true,
      autoSubmitted: true,
      spam: true,
      virus: true,
      forgedSender: true,
      maxBouncesPerSender: 10,
    })
  })

  it('an ordinary message passes every guard', () => {
    expect(guardOf(receivedMessage())).toBeUndefined()
    expect(bounceUnder(receivedMessage())).toEqual({ action: 'bounce' })
  })

  it('the defaults apply when the rules file has no safety section', () => {
    expect(ruleSetFromYaml(rulesYaml('  []')).safety).toEqual(DEFAULT_SAFETY)
    expect(
      ruleSetFromYaml(rulesYaml('  []', 'safety: { spam: false, maxBouncesPerSender: 3 }')).safety,
    ).toEqual({
      ...DEFAULT_SAFETY,
      spam: false,
      maxBouncesPerSender: 3,
    })
  })
})

describe('nullSender', () => {
  it.each([
    '',
    '  ',
    '<>',
    'MAILER-DAEMON@mx.example.net',
    'mailer-daemon@example.com',
    'Mailer-Daemon@EXAMPLE.com',
    '<MAILER-DAEMON@x.example>',
    'prvs=0123456789=mailer-daemon@x.example',
  ])('fires for %j', (envelopeSender) => {
    expect(guardOf(receivedMessage({ envelopeSender }))).toBe('nullSender')
    expect(bounceUnder(receivedMessage({ envelopeSender }))).toEqual({ action: 'drop', guard: 'nullSender' })
  })

  it.each([
    'owner-list@lists.example',
    'list-bounces@lists.example',
    'bounce-7731@em.invoicely.example',
    'daemon@example.com',
  ])('does not fire for %j: lists and VERP senders do get bounces', (envelopeSender) => {
    expect(guardOf(receivedMessage({ envelopeSender }))).toBeUndefined()
    expect(bounceUnder(receivedMessage({ envelopeSender }))).toEqual({ action: 'bounce' })
  })

  it('is off when disabled', () => {
    const off = { ...DEFAULT_SAFETY, nullSender: false }
    expect(guardOf(receivedMessage({ envelopeSender: '<>' }), off)).toBeUndefined()
    expect(bounceUnder(receivedMessage({ envelopeSender: 'MAILER-DAEMON@x.example' }), off)).toEqual({
      action: 'bounce',
    })
  })
})

describe('autoSubmitted', () => {
  it.each([
    'auto-generated',
    'auto-replied',
    'auto-notified',
    'Auto-Replied; owner-email="a@b.example"',
    'yes',
    'noreply',
    'nope',
    '',
  ])('Auto-Submitted: %j fires', (value) => {
    const message = withHeaders(header('Auto-Submitted', value))
    expect(guardOf(message)).toBe('autoSubmitted')
    expect(bounceUnder(message)).toEqual({ action: 'drop', guard: 'autoSubmitted' })
  })

  it.each(['no', 'No', ' NO ', 'no (sent by a person)', 'no(comment)', 'no; x=y'])(
    'Auto-Submitted: %j does not fire (it means "no")',
    (value) => {
      expect(guardOf(withHeaders(header('Auto-Submitted', value)))).toBeUndefined()
    },
  )

  it('fires when any Auto-Submitted occurrence is other than no', () => {
    const message = withHeaders(header('Auto-Submitted', 'no'), header('auto-submitted', 'auto-generated'))
    expect(guardOf(message)).toBe('autoSubmitted')
  })

  it.each([
    'multipart/report; report-type=delivery-status; boundary="b"',
    'Multipart/Report; report-type=disposition-notification',
    '  multipart/report',
  ])('Content-Type %j (a DSN or MDN itself) fires', (value) => {
    const message = receivedMessage({ headers: [header('Content-Type', value)] })
    expect(guardOf(message)).toBe('autoSubmitted')
    expect(bounceUnder(message)).toEqual({ action: 'drop', guard: 'autoSubmitted' })
  })

  it.each(['multipart/mixed; boundary=x', 'text/plain', 'multipart/reports'])(
    'Content-Type %j does not fire',
    (value) => {
      expect(guardOf(receivedMessage({ headers: [header('Content-Type', value)] }))).toBeUndefined()
    },
  )

  it('is off when disabled', () => {
    const off = { ...DEFAULT_SAFETY, autoSubmitted: false }
    expect(guardOf(withHeaders(header('Auto-Submitted', 'auto-replied')), off)).toBeUndefined()
    expect(
      guardOf(receivedMessage({ headers: [header('Content-Type', 'multipart/report')] }), off),
    ).toBeUndefined()
  })

  it('with truncated headers: a visible signal decides, otherwise the content is needed', () => {
    const visible = receivedMessage({
      headersTruncated: true,
      headers: [header('Auto-Submitted', 'auto-replied')],
    })
    expect(guardOf(visible)).toBe('autoSubmitted')
    const reportVisible = receivedMessage({
      headersTruncated: true,
      headers: [header('Content-Type', 'multipart/report')],
    })
    expect(guardOf(reportVisible)).toBe('autoSubmitted')
    const missing = receivedMessage({ headersTruncated: true, headers: [header('Subject', 'x')] })
    expect(guardOf(missing)).toEqual({ needs: 'content' })
    const humanButTypeUnknown = receivedMessage({
      headersTruncated: true,
      headers: [header('Auto-Submitted', 'no')],
    })
    expect(guardOf(humanButTypeUnknown)).toEqual({ needs: 'content' })
    // The parsed message settles it.
    expect(safetyGuard(DEFAULT_SAFETY, facts(missing, { content: content() }))).toBeUndefined()
    expect(
      safetyGuard(
        DEFAULT_SAFETY,
        facts(missing, { content: content({ headers: [header('Auto-Submitted', 'auto-generated')] }) }),
      ),
    ).toBe('autoSubmitted')
    // Disabled: nothing to fetch.
    expect(guardOf(missing, { ...DEFAULT_SAFETY, autoSubmitted: false })).toBeUndefined()
  })
})

describe('spam, virus, forgedSender', () => {
  it('spam FAIL fires; other spam verdicts do not', () => {
    expect(guardOf(receivedMessage({ verdicts: { spam: 'FAIL' } }))).toBe('spam')
    expect(bounceUnder(receivedMessage({ verdicts: { spam: 'FAIL' } }))).toEqual({
      action: 'drop',
      guard: 'spam',
    })
    for (const spam of ['PASS', 'GRAY', 'PROCESSING_FAILED', 'DISABLED'] as const) {
      expect(guardOf(receivedMessage({ verdicts: { spam } }))).toBeUndefined()
    }
    expect(
      guardOf(receivedMessage({ verdicts: { spam: 'FAIL' } }), { ...DEFAULT_SAFETY, spam: false }),
    ).toBeUndefined()
  })

  it('virus FAIL fires; other virus verdicts do not', () => {
    expect(guardOf(receivedMessage({ verdicts: { virus: 'FAIL' } }))).toBe('virus')
    expect(bounceUnder(receivedMessage({ verdicts: { virus: 'FAIL' } }))).toEqual({
      action: 'drop',
      guard: 'virus',
    })
    for (const virus of ['PASS', 'GRAY', 'PROCESSING_FAILED', 'DISABLED'] as const) {
      expect(guardOf(receivedMessage({ verdicts: { virus } }))).toBeUndefined()
    }
    expect(
      guardOf(receivedMessage({ verdicts: { virus: 'FAIL' } }), { ...DEFAULT_SAFETY, virus: false }),
    ).toBeUndefined()
  })

  it('forgedSender needs spf FAIL and dmarc FAIL together', () => {
    expect(guardOf(receivedMessage({ verdicts: { spf: 'FAIL', dmarc: 'FAIL' } }))).toBe('forgedSender')
    expect(bounceUnder(receivedMessage({ verdicts: { spf: 'FAIL', dmarc: 'FAIL' } }))).toEqual({
      action: 'drop',
      guard: 'forgedSender',
    })
    expect(guardOf(receivedMessage({ verdicts: { spf: 'FAIL' } }))).toBeUndefined()
    expect(guardOf(receivedMessage({ verdicts: { dmarc: 'FAIL' } }))).toBeUndefined()
    expect(
      guardOf(receivedMessage({ verdicts: { spf: 'FAIL', dmarc: 'GRAY', dkim: 'FAIL' } })),
    ).toBeUndefined()
    expect(
      guardOf(receivedMessage({ verdicts: { spf: 'FAIL', dmarc: 'FAIL' } }), {
        ...DEFAULT_SAFETY,
        forgedSender: false,
      }),
    ).toBeUndefined()
  })
})

describe('each guard alone', () => {
  const cases: [GuardName, ReceivedMessage][] = [
    ['nullSender', receivedMessage({ envelopeSender: '<>' })],
    ['autoSubmitted', withHeaders(header('Auto-Submitted', 'auto-replied'))],
    ['spam', receivedMessage({ verdicts: { spam: 'FAIL' } })],
    ['virus', receivedMessage({ verdicts: { virus: 'FAIL' } })],
    ['forgedSender', receivedMessage({ verdicts: { spf: 'FAIL', dmarc: 'FAIL' } })],
  ]

  it.each(cases)('%s fires with only its own setting on, and not with only it off', (guard, message) => {
    expect(guardOf(message, only({ [guard]: true }))).toBe(guard)
    expect(guardOf(message, { ...DEFAULT_SAFETY, [guard]: false })).toBeUndefined()
    expect(bounceUnder(message, { ...DEFAULT_SAFETY, [guard]: false })).toEqual({ action: 'bounce' })
  })

  it('with every guard off nothing fires', () => {
    for (const [, message] of cases) expect(guardOf(message, only({}))).toBeUndefined()
  })

  it('names the first guard that applies: nullSender, spam, virus, forgedSender, autoSubmitted', () => {
    const everything = receivedMessage({
      envelopeSender: '',
      verdicts: { spam: 'FAIL', virus: 'FAIL', spf: 'FAIL', dmarc: 'FAIL' },
      headers: [header('Auto-Submitted', 'auto-replied')],
    })
    expect(guardOf(everything)).toBe('nullSender')
    expect(guardOf(everything, { ...DEFAULT_SAFETY, nullSender: false })).toBe('spam')
    expect(guardOf(everything, { ...DEFAULT_SAFETY, nullSender: false, spam: false })).toBe('virus')
    expect(guardOf(everything, { ...DEFAULT_SAFETY, nullSender: false, spam: false, virus: false })).toBe(
      'forgedSender',
    )
    expect(guardOf(everything, only({ autoSubmitted: true }))).toBe('autoSubmitted')
  })

  it('a cheap guard decides without asking for the content', () => {
    const truncatedNull = receivedMessage({ envelopeSender: '', headersTruncated: true, headers: [] })
    expect(guardOf(truncatedNull)).toBe('nullSender')
    expect(bounceUnder(truncatedNull)).toEqual({ action: 'drop', guard: 'nullSender' })
  })
})

describe('the guard only turns bounces into drops', () => {
  it('accepts and rule drops are untouched, bounces keep rule and spec and gain the guard', () => {
    const rules: Rule[] = [{ name: 'keep', conditions: [], action: { kind: 'accept' } }]
    const spam = receivedMessage({ verdicts: { spam: 'FAIL' }, envelopeSender: '' })
    expect(decide(rules, DEFAULT_SAFETY, facts(spam))).toStrictEqual({
      kind: 'decided',
      decisions: [{ recipient: 'alice@example.com', action: 'accept', rule: 'keep' }],
    })
    const dropRules: Rule[] = [{ name: 'quiet', conditions: [], action: { kind: 'drop' } }]
    expect(decide(dropRules, DEFAULT_SAFETY, facts(spam))).toStrictEqual({
      kind: 'decided',
      decisions: [{ recipient: 'alice@example.com', action: 'drop', rule: 'quiet' }],
    })
    expect(decide([BOUNCE_ALL], DEFAULT_SAFETY, facts(spam))).toStrictEqual({
      kind: 'decided',
      decisions: [
        {
          recipient: 'alice@example.com',
          action: 'drop',
          rule: 'unknown',
          bounce: bounceSpec({ type: 'DoesNotExist' }),
          guard: 'nullSender',
        },
      ],
    })
  })
})
