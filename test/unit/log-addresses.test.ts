import { describe, expect, it } from 'vitest'
import { type LogAddresses, loadLogAddresses } from '../../src/config/log-addresses.js'
import type { ConfigProblem } from '../../src/config/problems.js'
import {
  addressRedactor,
  addressToken,
  normalizeAddress,
  redactingReplacer,
} from '../../src/runtime/log-addresses.js'

const KEY = 'k'.repeat(32)
const hash: LogAddresses = { mode: 'hash', key: KEY }

function load(env: Record<string, string>) {
  const problems: ConfigProblem[] = []
  return { settings: loadLogAddresses(env, problems), problems }
}

describe('LOG_ADDRESSES and LOG_ADDRESS_KEY', () => {
  it('default to full addresses', () => {
    expect(load({})).toEqual({ settings: { mode: 'full' }, problems: [] })
    expect(load({ LOG_ADDRESSES: ' Domain ' }).settings).toEqual({ mode: 'domain' })
  })

  it('take the key for hash', () => {
    expect(load({ LOG_ADDRESSES: 'hash', LOG_ADDRESS_KEY: KEY }).settings).toEqual(hash)
  })

  it.each([
    [{ LOG_ADDRESSES: 'hash' }, 'LOG_ADDRESS_KEY', /required with LOG_ADDRESSES=hash/],
    [{ LOG_ADDRESSES: 'hash', LOG_ADDRESS_KEY: 'short' }, 'LOG_ADDRESS_KEY', /at least 32 characters, got 5/],
    [{ LOG_ADDRESSES: 'sha256' }, 'LOG_ADDRESSES', /expected one of full, domain, hash, got 'sha256'/],
  ])('report %j as a configuration problem', (env, path, message) => {
    const { settings, problems } = load(env)
    expect(settings).toBeUndefined()
    expect(problems).toEqual([{ path, message: expect.stringMatching(message) }])
  })
})

describe('one mailbox, one token', () => {
  it.each([
    'alice@example.com',
    'Alice@Example.COM',
    'alice+newsletter@example.com',
    '<alice@example.com>',
    'Alice Example <alice@example.com>',
    'prvs=0123abcdef=alice@example.com',
    'alice@example.com.',
  ])('%j is alice@example.com', (spelling) => {
    expect(normalizeAddress(spelling)).toBe('alice@example.com')
    expect(addressToken(spelling, KEY)).toBe(addressToken('alice@example.com', KEY))
  })

  it('is a keyed HMAC: other mailboxes and other keys give other tokens', () => {
    const token = addressToken('alice@example.com', KEY)
    expect(token).toMatch(/^hmac:[0-9a-f]{24}$/)
    expect(addressToken('bob@example.com', KEY)).not.toBe(token)
    expect(addressToken('alice@example.com', 'x'.repeat(32))).not.toBe(token)
  })
})

describe('addressRedactor', () => {
  const diagnostic = 'smtp; 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown'

  it('full changes nothing', () => {
    const full = addressRedactor({ mode: 'full' })
    expect(full.redacts).toBe(false)
    expect(full.text(diagnostic)).toBe(diagnostic)
  })

  it('domain keeps the domain only', () => {
    const domain = addressRedactor({ mode: 'domain' })
    expect(domain.text(diagnostic)).toBe(
      'smtp; 550 5.1.1 <…@example.com>: Recipient address rejected: User unknown',
    )
    expect(domain.address('Nobody <nobody@Example.com>')).toBe('…@example.com')
    expect(domain.address('invite@')).toBe('…')
    expect(domain.text(domain.text(diagnostic))).toBe(domain.text(diagnostic))
  })

  it('hash replaces every address in text, quoted, UTF-8 and literal ones included', () => {
    const redact = addressRedactor(hash)
    const text =
      'identities failed the check: ap@supplier.example, "john doe"@example.com, jörg@bücher.example, a@[192.0.2.1]'
    const redacted = redact.text(text)
    expect(redacted).not.toMatch(/@/)
    expect(redacted).toContain(addressToken('ap@supplier.example', KEY))
    expect(redact.text(diagnostic)).toBe(
      `smtp; 550 5.1.1 <${addressToken('nobody@example.com', KEY)}>: Recipient address rejected: User unknown`,
    )
  })

  it('replaces a whole address field, display name included, and keeps an empty or null sender', () => {
    const redact = addressRedactor(hash)
    expect(redact.address('Nobody <nobody@example.com>')).toBe(addressToken('nobody@example.com', KEY))
    expect(redact.address('invite@')).toMatch(/^hmac:/)
    expect(redact.address('')).toBe('')
    expect(redact.address('<>')).toBe('<>')
  })

  it('withholds every address when the setting is invalid', () => {
    expect(addressRedactor(undefined).text(`x ${diagnostic}`)).toBe(
      'x smtp; 550 5.1.1 <[address withheld]>: Recipient address rejected: User unknown',
    )
  })
})

describe('redactingReplacer', () => {
  it('redacts the JSON of a log line without touching the objects logged', () => {
    const request = {
      BounceSender: 'mailer-daemon@example.com',
      BouncedRecipientInfoList: [
        { Recipient: 'Nobody <nobody@example.com>', RecipientDsnFields: { Status: '5.1.1' } },
      ],
    }
    const line = {
      sender: 'prvs=1a2b3c4d=bob@example.org',
      bounce: { wouldSend: request },
      note: 'to bob@example.org',
    }
    const json = JSON.stringify(line, redactingReplacer(addressRedactor(hash)))
    expect(json).not.toMatch(/@/)
    expect(JSON.parse(json).sender).toBe(addressToken('bob@example.org', KEY))
    expect(JSON.parse(json).bounce.wouldSend.BouncedRecipientInfoList[0].Recipient).toBe(
      addressToken('nobody@example.com', KEY),
    )
    expect(request.BouncedRecipientInfoList[0]?.Recipient).toBe('Nobody <nobody@example.com>')
  })
})
