import { describe, expect, it } from 'vitest'
import {
  BOUNCE_DEFAULTS,
  BOUNCE_TYPES,
  type BounceType,
  bounceSpec,
  diagnosticFor,
  FAILURE_STATUS,
} from '../../src/domain/bounce-spec.js'

const R = 'ghost@example.com'

describe('defaults per BounceType', () => {
  it('covers exactly the six SES bounce types', () => {
    expect([...BOUNCE_TYPES]).toEqual([
      'DoesNotExist',
      'MessageTooLarge',
      'ExceededQuota',
      'ContentRejected',
      'Undefined',
      'TemporaryFailure',
    ])
    expect(Object.keys(BOUNCE_DEFAULTS).sort()).toEqual([...BOUNCE_TYPES].sort())
  })

  it.each([
    [
      'DoesNotExist',
      '5.1.1',
      'smtp; 550 5.1.1 <ghost@example.com>: Recipient address rejected: User unknown',
    ],
    ['MessageTooLarge', '5.3.4', 'smtp; 552 5.3.4 Message size exceeds fixed maximum message size'],
    ['ExceededQuota', '5.2.2', 'smtp; 552 5.2.2 <ghost@example.com>: Mailbox full'],
    ['ContentRejected', '5.7.1', 'smtp; 550 5.7.1 Message content rejected'],
    ['Undefined', '5.0.0', 'smtp; 554 5.0.0 Delivery failed'],
    ['TemporaryFailure', '4.0.0', 'smtp; 450 4.0.0 Temporary failure, please try again later'],
  ] as const)('%s → %s, %s', (type, status, diagnostic) => {
    const spec = bounceSpec({ type })
    expect(spec).toStrictEqual({ type, status, diagnostic: spec.diagnostic })
    expect(diagnosticFor(spec, R)).toBe(diagnostic)
  })

  it('the DoesNotExist diagnostic is DESIGN.md verbatim, with {recipient} kept until sending', () => {
    expect(bounceSpec({ type: 'DoesNotExist' }).diagnostic).toBe(
      'smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown',
    )
  })

  it('every default status is a valid RFC 3463 failure status of its class', () => {
    for (const type of BOUNCE_TYPES) {
      const { status } = BOUNCE_DEFAULTS[type]
      expect(status).toMatch(FAILURE_STATUS)
      expect(status.startsWith('4')).toBe(type === 'TemporaryFailure')
    }
  })
})

describe('overrides', () => {
  it('an overridden status keeps the default text and the default reply code of the same class', () => {
    expect(bounceSpec({ type: 'ContentRejected', status: '5.7.26' })).toStrictEqual({
      type: 'ContentRejected',
      status: '5.7.26',
      diagnostic: 'smtp; 550 5.7.26 Message content rejected',
    })
    expect(diagnosticFor(bounceSpec({ type: 'DoesNotExist', status: '5.1.10' }), R)).toBe(
      'smtp; 550 5.1.10 <ghost@example.com>: Recipient address rejected: User unknown',
    )
    expect(bounceSpec({ type: 'MessageTooLarge', status: '5.2.3' }).diagnostic).toBe(
      'smtp; 552 5.2.3 Message size exceeds fixed maximum message size',
    )
  })

  it('a status of the other class takes the generic reply code of that class', () => {
    expect(diagnosticFor(bounceSpec({ type: 'ExceededQuota', status: '4.2.2' }), R)).toBe(
      'smtp; 450 4.2.2 <ghost@example.com>: Mailbox full',
    )
    expect(bounceSpec({ type: 'TemporaryFailure', status: '5.0.0' }).diagnostic).toBe(
      'smtp; 550 5.0.0 Temporary failure, please try again later',
    )
    expect(bounceSpec({ type: 'TemporaryFailure', status: '4.4.7' }).diagnostic).toBe(
      'smtp; 450 4.4.7 Temporary failure, please try again later',
    )
  })

  it('a custom diagnostic replaces the default entirely, with {recipient} substituted everywhere', () => {
    const spec = bounceSpec({
      type: 'ContentRejected',
      status: '5.7.1',
      diagnostic: 'smtp; 550 5.7.1 <{recipient}>: bulk mail is not accepted at {recipient}',
    })
    expect(spec.status).toBe('5.7.1')
    expect(diagnosticFor(spec, 'billing@example.com')).toBe(
      'smtp; 550 5.7.1 <billing@example.com>: bulk mail is not accepted at billing@example.com',
    )
    expect(bounceSpec({ type: 'Undefined', diagnostic: 'x-custom; nope' })).toStrictEqual({
      type: 'Undefined',
      status: '5.0.0',
      diagnostic: 'x-custom; nope',
    })
  })

  it('the explanation is kept only when given', () => {
    expect(bounceSpec({ type: 'ContentRejected', explanation: 'No executables.' })).toStrictEqual({
      type: 'ContentRejected',
      status: '5.7.1',
      diagnostic: 'smtp; 550 5.7.1 Message content rejected',
      explanation: 'No executables.',
    })
    expect('explanation' in bounceSpec({ type: 'ContentRejected' })).toBe(false)
  })

  it('diagnosticFor inserts the recipient literally, without treating $ as a replacement pattern', () => {
    const spec = bounceSpec({ type: 'DoesNotExist' })
    expect(diagnosticFor(spec, "$&$'@example.com")).toBe(
      "smtp; 550 5.1.1 <$&$'@example.com>: Recipient address rejected: User unknown",
    )
  })
})

describe('FAILURE_STATUS', () => {
  it.each(['5.1.1', '4.0.0', '5.7.26', '5.999.999', '4.2.2', '5.0.10'])('accepts %s', (status) => {
    expect(FAILURE_STATUS.test(status)).toBe(true)
  })

  it.each([
    '2.0.0',
    '3.1.1',
    '5.01.1',
    '5.1.01',
    '5.1',
    '5.1.1.1',
    '5.1000.1',
    '5.1.1 ',
    'x.1.1',
    '55.1.1',
    '',
  ])('rejects %j', (status) => {
    expect(FAILURE_STATUS.test(status)).toBe(false)
  })
})

describe('type safety of the defaults table', () => {
  it('reply codes are of the status class', () => {
    for (const type of BOUNCE_TYPES as readonly BounceType[]) {
      const { status, replyCode } = BOUNCE_DEFAULTS[type]
      expect(String(replyCode)[0]).toBe(status[0])
    }
  })
})
