import { describe, expect, it } from 'vitest'
import { receivedMessageFromStored } from '../../src/adapters/stored-message.js'
import { content, header } from './support/builders.js'

const SES_RECEIVED = (forClause: string) =>
  `from mail.sender.example (mail.sender.example [192.0.2.1]) by inbound-smtp.us-east-1.amazonaws.com with SMTP id abc123 ${forClause}; Tue, 17 Nov 2026 10:00:00 +0000 (UTC)`

const stored = (received: string) =>
  receivedMessageFromStored(
    'abc123',
    content({
      headers: [
        header('Return-Path', '<sam@sender.example>'),
        header('Received', received),
        header('To', 'Alice <alice@example.com>, bob@example.com'),
      ],
    }),
  )

describe('a stored message without its event (ses-bouncer check, replay)', () => {
  it("takes the envelope recipient from SES's Received line, bracketed or not", () => {
    expect(stored(SES_RECEIVED('for nobody@example.com')).recipients).toEqual(['nobody@example.com'])
    expect(stored(SES_RECEIVED('for <nobody@example.com>')).recipients).toEqual(['nobody@example.com'])
    expect(stored(SES_RECEIVED('for nobody@example.com')).receivedAt.toISOString()).toBe(
      '2026-11-17T10:00:00.000Z',
    )
  })

  it('falls back to To and Cc when the Received line names no single recipient', () => {
    expect(stored(SES_RECEIVED('')).recipients).toEqual(['alice@example.com', 'bob@example.com'])
  })

  it('reads a hostile Received line (100,000 @ and no ;) at once, as naming no recipient', () => {
    const hostile = `from x by inbound-smtp.us-east-1.amazonaws.com for ${'a@'.repeat(100_000)}`
    const started = performance.now()
    expect(stored(hostile).recipients).toEqual(['alice@example.com', 'bob@example.com'])
    // Not a speed target (npm run bench has those): a hang detector, 23 s before, 0 ms after. A
    // synchronous regular expression cannot be interrupted, so the test's timeout would not catch it.
    expect(performance.now() - started).toBeLessThan(2_000)
  })
})
