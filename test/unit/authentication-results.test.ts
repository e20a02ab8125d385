import { describe, expect, it } from 'vitest'
import {
  type AuthenticationResults,
  parseAuthenticationResults,
  propertyDomain,
} from '../../src/domain/authentication-results.js'

/** Results as plain objects, for readable expectations. */
const plain = (parsed: AuthenticationResults | undefined) =>
  parsed && {
    authservId: parsed.authservId,
    results: parsed.results.map(({ method, result, properties }) => ({
      method,
      result,
      properties: Object.fromEntries(properties),
    })),
  }

describe('parseAuthenticationResults (RFC 8601)', () => {
  it('reads the field SES adds, with its non-method items (a real capture’s shape)', () => {
    const value =
      'amazonses.com; spf=pass (spfCheck: domain of _spf.google.com designates 209.85.217.181 as permitted sender) ' +
      'client-ip=209.85.217.181; envelope-from=v.alvarez312@gmail.com; helo=mail-ua0-f181.google.com; ' +
      'dkim=pass header.i=@gmail.com; dmarc=pass header.from=gmail.com;'
    expect(plain(parseAuthenticationResults(value))).toEqual({
      authservId: 'amazonses.com',
      results: [
        { method: 'spf', result: 'pass', properties: { 'client-ip': '209.85.217.181' } },
        { method: 'envelope-from', result: 'v.alvarez312@gmail.com', properties: {} },
        { method: 'helo', result: 'mail-ua0-f181.google.com', properties: {} },
        { method: 'dkim', result: 'pass', properties: { 'header.i': '@gmail.com' } },
        { method: 'dmarc', result: 'pass', properties: { 'header.from': 'gmail.com' } },
      ],
    })
  })

  it('reads the RFC’s own examples: versions, comments anywhere, several results of one method', () => {
    const value =
      'example.com 1; (comment) dkim/1 (v) = (c) pass (good sig) header.d=example.net (d) header.b=(x)"abc;d";\n' +
      ' dkim = fail reason="bad signature" header.d=example.org;  spf=pass smtp.mailfrom=sender@example.net'
    expect(plain(parseAuthenticationResults(value))).toEqual({
      authservId: 'example.com',
      results: [
        { method: 'dkim', result: 'pass', properties: { 'header.d': 'example.net', 'header.b': 'abc;d' } },
        {
          method: 'dkim',
          result: 'fail',
          properties: { reason: 'bad signature', 'header.d': 'example.org' },
        },
        { method: 'spf', result: 'pass', properties: { 'smtp.mailfrom': 'sender@example.net' } },
      ],
    })
    expect(
      plain(parseAuthenticationResults('mx.example; dkim / 1 = pass header.d=a.example'))?.results,
    ).toEqual([{ method: 'dkim', result: 'pass', properties: { 'header.d': 'a.example' } }])
  })

  it('lower-cases authserv-id, method, result and property names; keeps values as written', () => {
    expect(plain(parseAuthenticationResults('AmazonSES.COM; DKIM=PASS Header.D=Example.COM'))).toEqual({
      authservId: 'amazonses.com',
      results: [{ method: 'dkim', result: 'pass', properties: { 'header.d': 'Example.COM' } }],
    })
  })

  it('a quoted authserv-id, and the "none" form', () => {
    expect(parseAuthenticationResults('"amazonses.com"; none')).toEqual({
      authservId: 'amazonses.com',
      results: [],
    })
  })

  it('skips items it cannot read and keeps the rest', () => {
    const value = 'amazonses.com; ===; dkim; =pass; dkim=pass header.i=@ok.example; (unterminated'
    expect(plain(parseAuthenticationResults(value))?.results).toEqual([
      { method: 'dkim', result: 'pass', properties: { 'header.i': '@ok.example' } },
    ])
  })

  it('keeps the first value of a property given twice', () => {
    const parsed = parseAuthenticationResults(
      'mx.example; dkim=pass header.d=first.example header.d=second.example',
    )
    expect(parsed?.results[0]?.properties.get('header.d')).toBe('first.example')
  })

  it('an unterminated quote or comment ends the field without hiding what came before', () => {
    expect(
      plain(parseAuthenticationResults('mx.example; dkim=pass header.d=a.example; spf=pass x="open')),
    ).toEqual({
      authservId: 'mx.example',
      results: [
        { method: 'dkim', result: 'pass', properties: { 'header.d': 'a.example' } },
        { method: 'spf', result: 'pass', properties: { x: 'open' } },
      ],
    })
  })

  it.each(['', '   ', ';', '(only a comment)', '= x'])('%j has no authserv-id', (value) => {
    expect(parseAuthenticationResults(value)).toBeUndefined()
  })

  it('reads only the first 16 KB of a huge field, in one pass', () => {
    const value = `mx.example; dkim=pass header.d=a.example;${' (x)'.repeat(200_000)} dkim=pass header.d=late.example`
    const parsed = parseAuthenticationResults(value)
    expect(parsed?.results.map((result) => result.properties.get('header.d'))).toEqual(['a.example'])
    const nested = `mx.example; dkim=pass header.d=a.example ${'('.repeat(100_000)}`
    expect(parseAuthenticationResults(nested)?.results).toHaveLength(1)
  })
})

describe('propertyDomain', () => {
  it('takes the domain of header.d or of header.i', () => {
    expect(propertyDomain('example.com')).toBe('example.com')
    expect(propertyDomain('@example.com')).toBe('example.com')
    expect(propertyDomain('user@sub.example.com')).toBe('sub.example.com')
    expect(propertyDomain('@')).toBeUndefined()
    expect(propertyDomain(undefined)).toBeUndefined()
  })
})
