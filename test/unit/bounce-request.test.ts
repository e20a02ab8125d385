import { describe, expect, it } from 'vitest'
import {
  type BounceSettings,
  buildBounceRequest,
  DIAGNOSTIC_LIMIT,
  dsnText,
  EXPLANATION_LIMIT,
} from '../../src/domain/bounce-request.js'
import { bounceSpec } from '../../src/domain/bounce-spec.js'
import type { BounceDecision, RecipientDecision } from '../../src/domain/decision.js'
import { RECEIVED_AT, receivedMessage } from './support/builders.js'

const SETTINGS: BounceSettings = { bounceSender: 'mailer-daemon@example.com', reportingMta: 'mx.example.com' }
const MESSAGE = receivedMessage({
  messageId: 'abcdef0123456789',
  recipients: ['Ghost@Example.com', 'alice@example.com', 'phantom+x@example.com', 'quiet@example.com'],
})

function bounce(recipient: string, input: Parameters<typeof bounceSpec>[0], rule = 'r'): BounceDecision {
  return { recipient, action: 'bounce', rule, bounce: bounceSpec(input) }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

describe('buildBounceRequest', () => {
  it('is undefined when nobody is bounced', () => {
    const decisions: RecipientDecision[] = [
      { recipient: 'alice@example.com', action: 'accept' },
      { recipient: 'quiet@example.com', action: 'drop', rule: 'q' },
      {
        recipient: 'ghost@example.com',
        action: 'drop',
        rule: 'u',
        bounce: bounceSpec({ type: 'DoesNotExist' }),
        guard: 'spam',
      },
    ]
    expect(buildBounceRequest(MESSAGE, decisions, SETTINGS)).toBeUndefined()
    expect(buildBounceRequest(MESSAGE, [], SETTINGS)).toBeUndefined()
  })

  it('one request for every bounced recipient, exactly as given, with explicit DSN fields', () => {
    const decisions: RecipientDecision[] = [
      bounce('Ghost@Example.com', { type: 'DoesNotExist' }),
      { recipient: 'alice@example.com', action: 'accept' },
      bounce('phantom+x@example.com', { type: 'MessageTooLarge' }),
      { recipient: 'quiet@example.com', action: 'drop', rule: 'q' },
    ]
    expect(buildBounceRequest(MESSAGE, decisions, SETTINGS)).toStrictEqual({
      OriginalMessageId: 'abcdef0123456789',
      BounceSender: 'mailer-daemon@example.com',
      MessageDsn: { ReportingMta: 'dns; mx.example.com', ArrivalDate: RECEIVED_AT },
      BouncedRecipientInfoList: [
        {
          Recipient: 'Ghost@Example.com',
          RecipientDsnFields: {
            Action: 'failed',
            Status: '5.1.1',
            DiagnosticCode: 'smtp; 550 5.1.1 <Ghost@Example.com>: Recipient address rejected: User unknown',
          },
        },
        {
          Recipient: 'phantom+x@example.com',
          RecipientDsnFields: {
            Action: 'failed',
            Status: '5.3.4',
            DiagnosticCode: 'smtp; 552 5.3.4 Message size exceeds fixed maximum message size',
          },
        },
      ],
    })
  })

  it('OriginalMessageId is the SES message id, never the Message-ID header', () => {
    const message = receivedMessage({
      messageId: 'ses-id-1',
      headers: [{ name: 'message-id', value: '<x@y>' }],
    })
    expect(
      buildBounceRequest(message, [bounce('a@b.example', { type: 'Undefined' })], SETTINGS)
        ?.OriginalMessageId,
    ).toBe('ses-id-1')
  })

  it('ArrivalDate is the time SES received the message (the same Date value)', () => {
    const receivedAt = new Date('2026-01-02T03:04:05.678Z')
    const request = buildBounceRequest(
      receivedMessage({ receivedAt }),
      [bounce('a@b.example', { type: 'Undefined' })],
      SETTINGS,
    )
    expect(request?.MessageDsn.ArrivalDate).toBe(receivedAt)
  })

  it('BounceSenderArn only when set', () => {
    const decisions = [bounce('a@b.example', { type: 'Undefined' })]
    expect(buildBounceRequest(MESSAGE, decisions, SETTINGS)).not.toHaveProperty('BounceSenderArn')
    const arn = 'arn:aws:ses:us-east-1:123456789012:identity/example.com'
    expect(
      buildBounceRequest(MESSAGE, decisions, { ...SETTINGS, bounceSenderArn: arn })?.BounceSenderArn,
    ).toBe(arn)
  })

  it('a custom diagnostic gets each recipient substituted', () => {
    const spec = {
      type: 'ContentRejected',
      diagnostic: 'smtp; 550 5.7.1 <{recipient}>: bulk mail refused',
    } as const
    const request = buildBounceRequest(
      MESSAGE,
      [bounce('a@x.example', spec), bounce('b@x.example', spec)],
      SETTINGS,
    )
    expect(request?.BouncedRecipientInfoList.map((r) => r.RecipientDsnFields.DiagnosticCode)).toEqual([
      'smtp; 550 5.7.1 <a@x.example>: bulk mail refused',
      'smtp; 550 5.7.1 <b@x.example>: bulk mail refused',
    ])
  })
})

describe('Explanation', () => {
  const withDefault: BounceSettings = { ...SETTINGS, explanation: 'Your message could not be delivered.' }

  it('absent when neither the rule nor the file gives one', () => {
    expect(
      buildBounceRequest(MESSAGE, [bounce('a@b.example', { type: 'Undefined' })], SETTINGS),
    ).not.toHaveProperty('Explanation')
  })

  it('the file default when the rule has none', () => {
    expect(
      buildBounceRequest(MESSAGE, [bounce('a@b.example', { type: 'Undefined' })], withDefault)?.Explanation,
    ).toBe('Your message could not be delivered.')
  })

  it("the rule's explanation over the file default", () => {
    const decisions = [bounce('a@b.example', { type: 'ContentRejected', explanation: 'No executables.' })]
    expect(buildBounceRequest(MESSAGE, decisions, withDefault)?.Explanation).toBe('No executables.')
  })

  it('distinct explanations joined in recipient order, each once', () => {
    const decisions = [
      bounce('a@b.example', { type: 'ContentRejected', explanation: 'No executables.' }),
      bounce('b@b.example', { type: 'DoesNotExist' }),
      bounce('c@b.example', { type: 'ContentRejected', explanation: 'No executables.' }),
      bounce('d@b.example', { type: 'MessageTooLarge', explanation: 'Too large.' }),
    ]
    expect(buildBounceRequest(MESSAGE, decisions, withDefault)?.Explanation).toBe(
      'No executables. Your message could not be delivered. Too large.',
    )
    expect(buildBounceRequest(MESSAGE, decisions, SETTINGS)?.Explanation).toBe('No executables. Too large.')
  })
})

describe('no CR, LF or control characters reach DSN fields', () => {
  it('cleans Explanation, DiagnosticCode and ReportingMta, never the recipient', () => {
    const recipient = 'evil\r\nBcc: victim@example.com@example.com'
    const request = buildBounceRequest(
      MESSAGE,
      [
        bounce(recipient, {
          type: 'ContentRejected',
          explanation: 'Line one.\r\nX-Injected: yes\u0000\u0007\ttabbed\u2028sep\u0085nel\u007f',
        }),
      ],
      { ...SETTINGS, reportingMta: 'mx.example.com\r\nX-Evil: 1' },
    )
    expect(request?.Explanation).toBe('Line one. X-Injected: yes tabbed sep nel')
    const fields = request?.BouncedRecipientInfoList[0]
    expect(fields?.Recipient).toBe(recipient)
    expect(fields?.RecipientDsnFields.DiagnosticCode).toBe('smtp; 550 5.7.1 Message content rejected')
    expect(request?.MessageDsn.ReportingMta).toBe('dns; mx.example.com X-Evil: 1')
    for (const text of [
      request?.Explanation,
      fields?.RecipientDsnFields.DiagnosticCode,
      request?.MessageDsn.ReportingMta,
    ]) {
      expect(text).not.toMatch(CONTROL)
    }
  })

  it('a recipient substituted into a diagnostic cannot inject a header', () => {
    const request = buildBounceRequest(
      MESSAGE,
      [bounce('a\r\nX-Injected: 1@example.com', { type: 'DoesNotExist' })],
      SETTINGS,
    )
    const diagnostic = request?.BouncedRecipientInfoList[0]?.RecipientDsnFields.DiagnosticCode
    expect(diagnostic).toBe(
      'smtp; 550 5.1.1 <a X-Injected: 1@example.com>: Recipient address rejected: User unknown',
    )
    expect(diagnostic).not.toMatch(CONTROL)
  })

  it('text of only control characters and spaces cleans to empty text', () => {
    expect(dsnText('\r\n\t  \u0000', 100)).toBe('')
  })
})

describe('length limits', () => {
  it('limits are 2048 for Explanation and 512 octets for Diagnostic-Code (RFC 5321 reply line)', () => {
    expect(EXPLANATION_LIMIT).toBe(2048)
    expect(DIAGNOSTIC_LIMIT).toBe(512)
  })

  it('truncates a long Explanation and a long DiagnosticCode', () => {
    const request = buildBounceRequest(
      MESSAGE,
      [
        bounce('a@b.example', {
          type: 'ContentRejected',
          explanation: 'e'.repeat(5000),
          diagnostic: `smtp; 550 5.7.1 ${'d'.repeat(1000)}`,
        }),
      ],
      SETTINGS,
    )
    expect(request?.Explanation).toBe('e'.repeat(EXPLANATION_LIMIT))
    expect(request?.BouncedRecipientInfoList[0]?.RecipientDsnFields.DiagnosticCode).toBe(
      `smtp; 550 5.7.1 ${'d'.repeat(DIAGNOSTIC_LIMIT - 16)}`,
    )
  })

  it('leaves text at the limit alone', () => {
    expect(dsnText('x'.repeat(512), 512)).toBe('x'.repeat(512))
  })

  it('collapses runs of spaces and trims', () => {
    expect(dsnText('  a   b \r\n\r\n c  ', 100)).toBe('a b c')
  })

  it('counts UTF-8 octets and never cuts a character in half', () => {
    const utf8 = (text: string) => new TextEncoder().encode(text).length
    const emoji = dsnText(`${'a'.repeat(511)}\u{1F600}`, 512)
    expect(emoji).toBe('a'.repeat(511))
    const accented = dsnText('é'.repeat(400), 512)
    expect(accented).toBe('é'.repeat(256))
    expect(utf8(accented)).toBe(512)
    const mixed = dsnText(`${'a'.repeat(510)}€b`, 512)
    expect(mixed).toBe('a'.repeat(510))
    for (const text of [emoji, accented, mixed]) {
      expect(text).not.toMatch(LONE_SURROGATE)
      expect(utf8(text)).toBeLessThanOrEqual(512)
    }
  })

  it('does not end a truncated text with a space', () => {
    expect(dsnText(`${'a'.repeat(9)} bbbb`, 10)).toBe('a'.repeat(9))
  })

  it('a non-ASCII diagnostic stays within 512 octets in the request', () => {
    const request = buildBounceRequest(
      MESSAGE,
      [bounce('a@b.example', { type: 'ContentRejected', diagnostic: `smtp; 550 5.7.1 ${'ü'.repeat(600)}` })],
      SETTINGS,
    )
    const diagnostic = request?.BouncedRecipientInfoList[0]?.RecipientDsnFields.DiagnosticCode ?? ''
    expect(new TextEncoder().encode(diagnostic).length).toBeLessThanOrEqual(DIAGNOSTIC_LIMIT)
    expect(diagnostic).toBe(`smtp; 550 5.7.1 ${'ü'.repeat((DIAGNOSTIC_LIMIT - 16) / 2)}`)
  })
})

describe('DSN extension fields', () => {
  const decisions = [bounce('Ghost@Example.com', { type: 'DoesNotExist' })]
  const request = (extensionFields: BounceSettings['extensionFields']) =>
    buildBounceRequest(MESSAGE, decisions, { ...SETTINGS, extensionFields })

  it('are sent in MessageDsn.ExtensionFields, and left out when there are none', () => {
    expect(request([{ Name: 'X-Support-Contact', Value: 'postmaster@example.com' }])?.MessageDsn).toEqual({
      ReportingMta: 'dns; mx.example.com',
      ArrivalDate: RECEIVED_AT,
      ExtensionFields: [{ Name: 'X-Support-Contact', Value: 'postmaster@example.com' }],
    })
    expect(request([])?.MessageDsn).not.toHaveProperty('ExtensionFields')
    expect(request(undefined)?.MessageDsn).not.toHaveProperty('ExtensionFields')
  })

  it('keep only names SendBounce accepts: 1-50 letters, digits and dashes', () => {
    const fields = request([
      { Name: 'X-Ok-1', Value: 'a' },
      { Name: 'X Bad', Value: 'b' },
      { Name: 'X-Inject:\r\nBcc', Value: 'c' },
      { Name: '', Value: 'd' },
      { Name: 'X'.repeat(51), Value: 'e' },
      { Name: 'X'.repeat(50), Value: 'f' },
    ])?.MessageDsn.ExtensionFields
    expect(fields?.map((field) => field.Name)).toEqual(['X-Ok-1', 'X'.repeat(50)])
  })

  it('carry no CR, LF or other control character, and at most 2,048 characters', () => {
    const [field] =
      request([
        { Name: 'X-Note', Value: `line one\r\nBcc: victim@example.org\u0000\u2028${'é'.repeat(3000)}` },
      ])?.MessageDsn.ExtensionFields ?? []
    expect(field?.Value).not.toMatch(CONTROL)
    expect(field?.Value.startsWith('line one Bcc: victim@example.org ')).toBe(true)
    expect(Buffer.byteLength(field?.Value ?? '')).toBeLessThanOrEqual(2048)
  })
})
