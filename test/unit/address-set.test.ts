import { describe, expect, it } from 'vitest'
import {
  formatMailbox,
  isNullSender,
  normalizeDomain,
  parseMailbox,
  recipientProblem,
  senderKeys,
} from '../../src/domain/address.js'
import { AddressSet, PatternError } from '../../src/domain/address-set.js'
import { BouncerError } from '../../src/domain/errors.js'

describe('recipientProblem: what SES never puts in receipt.recipients', () => {
  it.each([
    'alice@example.com',
    'Alice.Example+tag@Sub.Example.COM',
    '76604931-1@PRD.INBOX.EXAMPLE',
    '"john doe"@example.com',
    'jörg@bücher.example',
  ])('accepts the bare address %j', (recipient) => {
    expect(recipientProblem(recipient)).toBeUndefined()
  })

  it.each([
    ['Nobody <nobody@example.com>', 'a display name'],
    ['"Doe, John" <john@example.com>', 'a display name'],
    ['<nobody@example.com>', 'angle brackets'],
    ['nobody@example.com>', 'angle brackets'],
    ['invite@', 'no domain'],
    ['postmaster', 'no domain'],
    ['@example.com', 'no local part'],
    ['', 'empty'],
    [' nobody@example.com', 'white space'],
    ['bob smith@example.com', 'white space'],
    ['nobody@example.com\r\nBcc: x@example.com', 'control characters'],
  ])('names the problem of %j: %s', (recipient, problem) => {
    expect(recipientProblem(recipient)).toBe(problem)
  })
})

describe('parseMailbox', () => {
  it('lower-cases, strips angle brackets, a sub-address tag and a trailing dot', () => {
    expect(parseMailbox(' <Alice+Lists@Example.COM.> ')).toEqual({ local: 'alice', domain: 'example.com' })
  })

  it('reduces a BATV-signed sender to the address it signs', () => {
    expect(parseMailbox('prvs=0123abcdef=bob@example.org')).toEqual({ local: 'bob', domain: 'example.org' })
    expect(parseMailbox('PRVS=4FD3C0A2B1=Bob+x@Example.org')).toEqual({ local: 'bob', domain: 'example.org' })
    // Signed twice is still the one mailbox.
    expect(parseMailbox('prvs=0123abcdef=prvs=4fd3c0a2b1=bob@example.org')).toEqual({
      local: 'bob',
      domain: 'example.org',
    })
  })

  it('keeps a local part that starts with + (no user to fall back to)', () => {
    expect(parseMailbox('+tag@example.com')).toEqual({ local: '+tag', domain: 'example.com' })
  })

  it('uses the @ outside quotes so a quoted local part with @ keeps its domain', () => {
    expect(parseMailbox('"a@b"@example.com')).toEqual({ local: '"a@b"', domain: 'example.com' })
  })

  it('undoes quoting that changes nothing and quoted-pairs (RFC 5321 §4.1.2): one key per mailbox', () => {
    for (const spelling of [
      'victim@gmail.com',
      '"victim"@gmail.com',
      '"vic\\tim"@gmail.com',
      '"VICTIM"@Gmail.COM',
      '"vic"tim@gmail.com',
      '<"victim+x"@gmail.com>',
    ]) {
      expect(parseMailbox(spelling), spelling).toEqual({ local: 'victim', domain: 'gmail.com' })
    }
    expect(parseMailbox('"first.last"@example.com')).toEqual({ local: 'first.last', domain: 'example.com' })
  })

  it('keeps the quotes a local part needs, with only " and \\ escaped', () => {
    expect(parseMailbox('"john doe"@example.com')?.local).toBe('"john doe"')
    expect(parseMailbox('"john\\ doe"@example.com')?.local).toBe('"john doe"')
    expect(parseMailbox('"a\\"b"@example.com')?.local).toBe('"a\\"b"')
    expect(parseMailbox('"a..b"@example.com')?.local).toBe('"a..b"')
    expect(parseMailbox('".a"@example.com')?.local).toBe('".a"')
  })

  it('reads through quoting to find MAILER-DAEMON, BATV and +tags', () => {
    expect(parseMailbox('"MAILER-DAEMON"@mx.example')).toEqual({
      local: 'mailer-daemon',
      domain: 'mx.example',
    })
    expect(parseMailbox('"prvs=0123abcdef=bob"@example.org')).toEqual({ local: 'bob', domain: 'example.org' })
  })

  it('ignores an RFC 5321 source route', () => {
    expect(parseMailbox('<@relay.example,@hop.example:Bob@Example.org>')).toEqual({
      local: 'bob',
      domain: 'example.org',
    })
  })

  it('writes an internationalised domain as A-labels, as its ASCII spelling is', () => {
    const ascii = { local: 'victim', domain: 'xn--bcher-kva.example' }
    expect(parseMailbox('victim@bücher.example')).toEqual(ascii)
    expect(parseMailbox('victim@BÜCHER.example')).toEqual(ascii)
    expect(parseMailbox('victim@XN--BCHER-KVA.example')).toEqual(ascii)
    expect(parseMailbox('victim@ｂüｃｈｅｒ。example')).toEqual(ascii)
  })

  it('writes an address literal one way per address, one bucket per literal', () => {
    expect(parseMailbox('victim@[142.250.000.001]')).toEqual({ local: 'victim', domain: '[142.250.0.1]' })
    expect(parseMailbox('victim@[142.250.0.1]')).toEqual({ local: 'victim', domain: '[142.250.0.1]' })
    expect(parseMailbox('victim@[142.250.0.2]')?.domain).toBe('[142.250.0.2]')
    expect(parseMailbox('victim@[IPv6:2001:DB8:0:0::1]')?.domain).toBe('[ipv6:2001:db8::1]')
    expect(parseMailbox('victim@[ipv6:2001:db8::1]')?.domain).toBe('[ipv6:2001:db8::1]')
    // Not an address: kept as written, lower-cased.
    expect(parseMailbox('victim@[999.1.1.1]')?.domain).toBe('[999.1.1.1]')
    expect(parseMailbox('victim@[X-Tag:Some@Thing]')?.domain).toBe('[x-tag:some@thing]')
  })

  it.each([
    '',
    '<>',
    'alice',
    '@example.com',
    'alice@',
    '<alice@>',
    'prvs=abc=@example.com',
    '  ',
    '""@example.com',
    '"unterminated@example.com',
    'a@example..com',
    'a@example.com..',
    'a@.example.com',
  ])('returns undefined for %j', (raw) => {
    expect(parseMailbox(raw)).toBeUndefined()
  })

  it('formats a mailbox back as local@domain', () => {
    expect(formatMailbox({ local: 'alice', domain: 'example.com' })).toBe('alice@example.com')
  })

  it('normalises a domain: trimmed, lower-cased, one trailing dot removed, IDNA A-labels', () => {
    expect(normalizeDomain(' Example.COM. ')).toBe('example.com')
    // Decomposed and composed é are one name.
    expect(normalizeDomain('cafe\u0301.example')).toBe('xn--caf-dma.example')
    expect(normalizeDomain('caf\u00e9.example')).toBe('xn--caf-dma.example')
  })

  it('never lets the URL parser read past the host: such text keeps its own lower-cased form', () => {
    expect(normalizeDomain('bücher.example/x')).toBe('bücher.example/x')
    expect(normalizeDomain('bücher.example:25')).toBe('bücher.example:25')
    expect(normalizeDomain('b%C3%BCcher.exämple')).toBe('b%c3%bccher.exämple')
    expect(normalizeDomain('bü cher.example')).toBe('bü cher.example')
  })
})

describe('isNullSender', () => {
  it.each([
    '',
    '   ',
    '<>',
    ' <> ',
    'MAILER-DAEMON@example.com',
    'mailer-daemon@mx.example.net',
    '<Mailer-Daemon@x.example>',
    'MAILER-DAEMON',
    '"MAILER-DAEMON"@host.example',
    '"mailer\\-daemon"@host.example',
    '""@host.example',
  ])('%j is a null sender', (sender) => {
    expect(isNullSender(sender)).toBe(true)
  })

  it.each([
    'owner-list@lists.example',
    'list-bounces@lists.example',
    'postmaster-not@example.com',
    'alice@example.com',
    'daemon@example.com',
  ])('%j is not a null sender', (sender) => {
    expect(isNullSender(sender)).toBe(false)
  })
})

describe('senderKeys', () => {
  it('counts a mailbox and its domain under their normalised forms', () => {
    expect(senderKeys('prvs=0123abcdef="Bob+x"@BÜCHER.example')).toEqual({
      mailbox: 'bob@xn--bcher-kva.example',
      domain: 'xn--bcher-kva.example',
    })
  })

  it('counts text that is no address under itself', () => {
    expect(senderKeys(' Garbage@ ')).toEqual({ mailbox: 'garbage@', domain: '' })
    expect(senderKeys('nobody')).toEqual({ mailbox: 'nobody', domain: 'nobody' })
  })
})

describe('AddressSet patterns', () => {
  it('user@domain matches that mailbox only', () => {
    const set = AddressSet.of(['alice@example.com'])
    expect(set.has('alice@example.com')).toBe(true)
    expect(set.has('bob@example.com')).toBe(false)
    expect(set.has('alice@example.org')).toBe(false)
    expect(set.has('alice@sub.example.com')).toBe(false)
    expect(set.has('malice@example.com')).toBe(false)
  })

  it('*@domain matches every mailbox of the domain but not its subdomains', () => {
    const set = AddressSet.of(['*@example.com'])
    expect(set.has('alice@example.com')).toBe(true)
    expect(set.has('anyone.else@example.com')).toBe(true)
    expect(set.has('alice@sub.example.com')).toBe(false)
    expect(set.has('alice@notexample.com')).toBe(false)
    expect(set.has('alice@example.com.evil')).toBe(false)
  })

  it('*@*.domain matches subdomains at any depth, not the domain itself', () => {
    const set = AddressSet.of(['*@*.example.com'])
    expect(set.has('alice@sub.example.com')).toBe(true)
    expect(set.has('alice@a.b.c.example.com')).toBe(true)
    expect(set.has('alice@example.com')).toBe(false)
    expect(set.has('alice@badexample.com')).toBe(false)
    expect(set.has('alice@sub.example.com.evil')).toBe(false)
    expect(set.has('alice@com')).toBe(false)
  })

  it('compares case-insensitively, both in patterns and in addresses', () => {
    const set = AddressSet.of(['Alice@Example.COM', '*@Support.Example.COM', '*@*.PARTNER.example'])
    expect(set.has('ALICE@example.com')).toBe(true)
    expect(set.has('x@SUPPORT.example.com')).toBe(true)
    expect(set.has('x@Mail.Partner.Example')).toBe(true)
  })

  it('user+tag@domain matches user@domain, and a tagged pattern matches the untagged and other tags', () => {
    const plain = AddressSet.of(['alice@example.com'])
    expect(plain.has('alice+newsletter@example.com')).toBe(true)
    expect(plain.has('Alice+A+B@Example.com')).toBe(true)
    const tagged = AddressSet.of(['alice+sales@example.com'])
    expect(tagged.has('alice+sales@example.com')).toBe(true)
    expect(tagged.has('alice@example.com')).toBe(true)
    expect(tagged.has('alice+other@example.com')).toBe(true)
    expect(tagged.has('bob+sales@example.com')).toBe(false)
  })

  it('a local part that starts with + is its own mailbox', () => {
    const set = AddressSet.of(['+ops@example.com'])
    expect(set.has('+ops@example.com')).toBe(true)
    expect(set.has('ops@example.com')).toBe(false)
  })

  it('accepts angle brackets around the address and around an exact pattern', () => {
    const set = AddressSet.of(['<alice@example.com>', '*@example.org'])
    expect(set.has('<alice@example.com>')).toBe(true)
    expect(set.has('alice@example.com')).toBe(true)
    expect(set.has('<bob@example.org>')).toBe(true)
  })

  it('matches a BATV-signed envelope sender by the address it signs', () => {
    const set = AddressSet.of(['bob@example.org', '*@spam.example'])
    expect(set.has('prvs=0123abcdef=bob@example.org')).toBe(true)
    expect(set.has('prvs=9999999999=anyone@spam.example')).toBe(true)
    expect(set.has('prvs=0123abcdef=carol@example.org')).toBe(false)
  })

  it('ignores one trailing dot of a domain, in patterns and addresses', () => {
    const set = AddressSet.of(['alice@example.com.', '*@example.org.', '*@*.example.net.'])
    expect(set.has('alice@example.com')).toBe(true)
    expect(set.has('alice@example.com.')).toBe(true)
    expect(set.has('x@example.org.')).toBe(true)
    expect(set.has('x@sub.example.net.')).toBe(true)
    expect(set.has('x@example.net.')).toBe(false)
  })

  it('trims whitespace around patterns and addresses', () => {
    const set = AddressSet.of(['  alice@example.com\t', ' *@example.org '])
    expect(set.has(' alice@example.com ')).toBe(true)
    expect(set.has('bob@example.org')).toBe(true)
  })

  it.each(['', '<>', 'alice', 'MAILER-DAEMON', '@example.com', 'alice@', '*', 'example.com'])(
    'never matches the non-address %j',
    (address) => {
      const set = AddressSet.of(['*@example.com', 'alice@example.com', '*@*.com'])
      expect(set.has(address)).toBe(false)
    },
  )

  it('reports the number of patterns, deduplicated per form', () => {
    const set = AddressSet.of(['a@x.com', 'A@X.com', 'a+t@x.com', '*@x.com', '*@X.com.', '*@*.x.com'])
    expect(set.size).toBe(3)
    expect(new AddressSet().size).toBe(0)
    expect(new AddressSet().has('a@x.com')).toBe(false)
  })

  it('an empty set matches nothing', () => {
    expect(AddressSet.of([]).has('alice@example.com')).toBe(false)
  })
})

describe('AddressSet rejects invalid patterns', () => {
  it.each([
    '',
    '   ',
    'alice',
    'alice@',
    '@example.com',
    '*',
    '*@',
    '*@*',
    '*@*.',
    '*@.',
    'a*@example.com',
    '*alice@example.com',
    'alice@*.example.com',
    '*@*.*.example.com',
    '*@exam*ple.com',
    '*@exa mple.com',
    '*@<example.com>',
    '<*@example.com>',
    '*@a@b.com',
    '*@.example.com',
    '*@example..com',
    '*@*..example.com',
    '*@example.com..',
    'alice@.example.com',
    'alice@example..com',
    'alice bob@example.com',
    'alice@example.com bob@example.com',
  ])('%j throws PatternError', (pattern) => {
    expect(() => AddressSet.of([pattern])).toThrow(PatternError)
  })

  it('PatternError is a BouncerError whose message quotes the pattern and the three forms', () => {
    const set = new AddressSet()
    let caught: unknown
    try {
      set.add('alice')
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(PatternError)
    expect(caught).toBeInstanceOf(BouncerError)
    expect((caught as PatternError).name).toBe('PatternError')
    expect((caught as PatternError).message).toBe(
      '"alice" is not a pattern like user@domain, *@domain or *@*.domain',
    )
    expect(set.size).toBe(0)
  })
})

describe('AddressSet with 100,000 entries', () => {
  it('builds and answers every member and non-member correctly', () => {
    const exact = Array.from({ length: 80_000 }, (_, i) => `user${i}@domain${i % 997}.example`)
    const domains = Array.from({ length: 10_000 }, (_, i) => `*@whole${i}.example`)
    const parents = Array.from({ length: 10_000 }, (_, i) => `*@*.parent${i}.example`)
    const set = AddressSet.of([...exact, ...domains, ...parents])
    expect(set.size).toBe(100_000)

    for (let i = 0; i < 80_000; i += 1) {
      if (!set.has(`USER${i}+tag@Domain${i % 997}.example`)) throw new Error(`missed user${i}`)
    }
    for (let i = 0; i < 10_000; i += 1) {
      if (!set.has(`anyone@whole${i}.example`)) throw new Error(`missed whole${i}`)
      if (!set.has(`anyone@mx.a.parent${i}.example`)) throw new Error(`missed parent${i}`)
      if (set.has(`anyone@parent${i}.example`)) throw new Error(`parent${i} itself matched`)
      if (set.has(`anyone@sub.whole${i}.example`)) throw new Error(`sub.whole${i} matched`)
    }
    let falsePositives = 0
    for (let i = 0; i < 10_000; i += 1) {
      if (set.has(`user${i}@domain${(i + 1) % 997}.example`)) falsePositives += 1
      if (set.has(`nobody${i}@domain${i % 997}.example`)) falsePositives += 1
      if (set.has(`user${i}@whole${i}.example.org`)) falsePositives += 1
    }
    expect(falsePositives).toBe(0)
    expect(set.has(`user79999@domain${79999 % 997}.example`)).toBe(true)
  })
})
