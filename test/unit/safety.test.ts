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
  unverifiedSender: false,
  maxBouncesPerSender: 10,
  maxBouncesPerSenderDomain: 50,
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
  it('every guard is on: 10 bounces per sender mailbox and 50 per sender domain an hour', () => {
    expect(DEFAULT_SAFETY).toEqual({
      nullSender: true,
      autoSubmitted: true,
      spam: true,
      virus: true,
      forgedSender: true,
      unverifiedSender: true,
      maxBouncesPerSender: 10,
      maxBouncesPerSenderDomain: 50,
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

  it('forgedSender: SPF FAIL for MAIL FROM drops, whatever DMARC says about the From header', () => {
    for (const dmarc of ['FAIL', 'GRAY', 'PASS', 'PROCESSING_FAILED', 'DISABLED'] as const) {
      for (const dkim of ['FAIL', 'GRAY', 'PASS'] as const) {
        const forged = receivedMessage({
          envelopeSender: 'victim@victim.example',
          verdicts: { spf: 'FAIL', dmarc, dkim },
        })
        expect(guardOf(forged)).toBe('forgedSender')
        expect(bounceUnder(forged)).toEqual({ action: 'drop', guard: 'forgedSender' })
      }
    }
    expect(guardOf(receivedMessage({ verdicts: { dmarc: 'FAIL' } }))).toBeUndefined()
    expect(
      guardOf(receivedMessage({ verdicts: { spf: 'FAIL', dmarc: 'FAIL' } }), {
        ...DEFAULT_SAFETY,
        forgedSender: false,
        unverifiedSender: false,
      }),
    ).toBeUndefined()
  })
})

/** SES's own Authentication-Results field, as it prepends it (real captures have this shape). */
const sesResults = (dkim: string, authservId = 'amazonses.com') =>
  header(
    'Authentication-Results',
    `${authservId}; spf=none (spfCheck: 203.0.113.9 is neither permitted nor denied by domain of victim.example) ` +
      `client-ip=203.0.113.9; envelope-from=someone@victim.example; helo=mx.victim.example; ${dkim}; dmarc=none header.from=victim.example;`,
  )

describe('unverifiedSender', () => {
  const unsure = { spf: 'GRAY', dkim: 'PASS', dmarc: 'GRAY' } as const
  const sender = (envelopeSender: string, ...headers: ReturnType<typeof header>[]) =>
    receivedMessage({
      envelopeSender,
      verdicts: unsure,
      headers: [...headers, header('Content-Type', 'text/plain')],
    })

  it('SPF PASS verifies MAIL FROM', () => {
    expect(
      guardOf(receivedMessage({ verdicts: { spf: 'PASS', dkim: 'FAIL', dmarc: 'FAIL' } })),
    ).toBeUndefined()
  })

  it.each(['GRAY', 'PROCESSING_FAILED', 'DISABLED'] as const)(
    'SPF %s and no DKIM pass: drop with guard unverifiedSender',
    (spf) => {
      for (const dkim of ['FAIL', 'GRAY', 'PROCESSING_FAILED', 'DISABLED'] as const) {
        const message = receivedMessage({ verdicts: { spf, dkim, dmarc: 'PASS' } })
        expect(guardOf(message)).toBe('unverifiedSender')
        expect(bounceUnder(message)).toEqual({ action: 'drop', guard: 'unverifiedSender' })
      }
    },
  )

  it('a DKIM pass of the MAIL FROM domain or a parent of it verifies, read from SES’s field', () => {
    expect(
      guardOf(sender('a@victim.example', sesResults('dkim=pass header.i=@victim.example'))),
    ).toBeUndefined()
    expect(
      guardOf(sender('bounce-7@em.victim.example', sesResults('dkim=pass header.i=@victim.example'))),
    ).toBeUndefined()
    expect(
      guardOf(
        sender(
          'a@Victim.Example',
          sesResults('dkim=pass (2048-bit key) header.d="VICTIM.example" header.s=s1'),
        ),
      ),
    ).toBeUndefined()
    // Two signatures, the aligned one second.
    expect(
      guardOf(
        sender(
          'a@victim.example',
          sesResults('dkim=pass header.i=@esp.example; dkim=pass header.i=@victim.example'),
        ),
      ),
    ).toBeUndefined()
    // IDNA: the signature names the A-label, the sender wrote Unicode.
    expect(
      guardOf(sender('a@bücher.example', sesResults('dkim=pass header.i=@xn--bcher-kva.example'))),
    ).toBeUndefined()
  })

  it('a DKIM pass that does not align with MAIL FROM does not verify it', () => {
    for (const dkim of [
      'dkim=pass header.i=@forger.example', // the forger signs its own domain
      'dkim=pass header.i=@sub.victim.example', // a child may belong to someone else
      'dkim=pass header.i=@notvictim.example', // a suffix of the name is no parent
      'dkim=fail header.i=@victim.example',
      'dkim=pass', // no domain named
    ]) {
      expect(guardOf(sender('a@victim.example', sesResults(dkim))), dkim).toBe('unverifiedSender')
    }
  })

  it('trusts only the topmost field, and only with SES’s authserv-id: a forged one lower down counts for nothing', () => {
    const forged = header('Authentication-Results', 'amazonses.com; dkim=pass header.i=@victim.example')
    expect(
      guardOf(sender('a@victim.example', sesResults('dkim=pass header.i=@forger.example'), forged)),
    ).toBe('unverifiedSender')
    expect(
      guardOf(
        sender('a@victim.example', sesResults('dkim=pass header.i=@victim.example', 'mx.forger.example')),
      ),
    ).toBe('unverifiedSender')
    // No field at all, though SES said DKIM passed: nothing to align with.
    expect(guardOf(sender('a@victim.example'))).toBe('unverifiedSender')
  })

  it('with truncated headers and no field in sight, reads the stored message', () => {
    const truncated = receivedMessage({
      envelopeSender: 'a@victim.example',
      verdicts: unsure,
      headersTruncated: true,
      headers: [header('Subject', 'x')],
    })
    expect(guardOf(truncated)).toEqual({ needs: 'content' })
    const stored = content({
      headers: [sesResults('dkim=pass header.i=@victim.example'), header('Content-Type', 'text/plain')],
    })
    expect(safetyGuard(DEFAULT_SAFETY, facts(truncated, { content: stored }))).toBeUndefined()
    const unaligned = content({
      headers: [sesResults('dkim=pass header.i=@forger.example'), header('Content-Type', 'text/plain')],
    })
    expect(safetyGuard(DEFAULT_SAFETY, facts(truncated, { content: unaligned }))).toBe('unverifiedSender')
    // SPF PASS needs no headers at all.
    expect(
      guardOf(
        { ...truncated, verdicts: { ...truncated.verdicts, spf: 'PASS' } },
        only({ unverifiedSender: true }),
      ),
    ).toBeUndefined()
  })

  it('is off when disabled: an unverified sender gets its bounce', () => {
    const message = receivedMessage({ verdicts: { spf: 'GRAY', dkim: 'GRAY', dmarc: 'GRAY' } })
    expect(bounceUnder(message, { ...DEFAULT_SAFETY, unverifiedSender: false })).toEqual({ action: 'bounce' })
  })
})

describe('each guard alone', () => {
  const cases: [GuardName, ReceivedMessage][] = [
    ['nullSender', receivedMessage({ envelopeSender: '<>' })],
    ['autoSubmitted', withHeaders(header('Auto-Submitted', 'auto-replied'))],
    ['spam', receivedMessage({ verdicts: { spam: 'FAIL' } })],
    ['virus', receivedMessage({ verdicts: { virus: 'FAIL' } })],
    ['forgedSender', receivedMessage({ verdicts: { spf: 'FAIL', dmarc: 'FAIL' } })],
    ['unverifiedSender', receivedMessage({ verdicts: { spf: 'GRAY', dkim: 'GRAY' } })],
  ]

  // SPF FAIL is also unverified: forgedSender's case is caught by unverifiedSender when it is off.
  const alsoUnverified: Partial<Record<GuardName, GuardName>> = { forgedSender: 'unverifiedSender' }

  it.each(cases)('%s fires with only its own setting on, and not with only it off', (guard, message) => {
    expect(guardOf(message, only({ [guard]: true }))).toBe(guard)
    const without = alsoUnverified[guard]
    const off = { ...DEFAULT_SAFETY, [guard]: false, ...(without === undefined ? {} : { [without]: false }) }
    expect(guardOf(message, off)).toBeUndefined()
    expect(bounceUnder(message, off)).toEqual({ action: 'bounce' })
  })

  it('with every guard off nothing fires', () => {
    for (const [, message] of cases) expect(guardOf(message, only({}))).toBeUndefined()
  })

  it('names the first guard that applies: nullSender, spam, virus, forgedSender, unverifiedSender, autoSubmitted', () => {
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
    expect(guardOf(everything, only({ unverifiedSender: true, autoSubmitted: true }))).toBe(
      'unverifiedSender',
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
