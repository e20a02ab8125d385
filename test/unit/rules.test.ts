import { describe, expect, it } from 'vitest'
import { re2PatternEngine } from '../../src/adapters/re2-pattern-engine.js'
import { AddressSet } from '../../src/domain/address-set.js'
import { bounceSpec } from '../../src/domain/bounce-spec.js'
import { compileGlob } from '../../src/domain/glob.js'
import {
  fromAddresses,
  headerValues,
  type VerdictName,
  type VerdictStatus,
} from '../../src/domain/message.js'
import { factsRulesMayNeed } from '../../src/domain/rule-set.js'
import {
  type Condition,
  conditionCost,
  evaluateCondition,
  evaluateRule,
  HEADER_MATCH_LIMIT,
  type HeaderTest,
  moreFacts,
  type Rule,
} from '../../src/domain/rules.js'
import { attachment, content, facts, header, receivedMessage } from './support/builders.js'

const RCPT = 'alice@example.com'

function address(field: 'recipient' | 'sender' | 'from', patterns: string[], negate = false): Condition {
  return { kind: 'address', field, set: AddressSet.of(patterns), negate }
}

function headerCondition(name: string, test: HeaderTest): Condition {
  return { kind: 'header', name, test }
}

function rule(conditions: Condition[]): Rule {
  return { name: 'r', conditions, action: { kind: 'drop' } }
}

describe('compileGlob', () => {
  it('matches * and ? case-insensitively over the whole text', () => {
    const exe = compileGlob('*.exe')
    expect(exe.source).toBe('*.exe')
    expect(exe.test('setup.exe')).toBe(true)
    expect(exe.test('SETUP.EXE')).toBe(true)
    expect(exe.test('.exe')).toBe(true)
    expect(exe.test('setup.exe.txt')).toBe(false)
    expect(exe.test('setupexe')).toBe(false)
    const one = compileGlob('doc?.pdf')
    expect(one.test('doc1.pdf')).toBe(true)
    expect(one.test('doc.pdf')).toBe(false)
    expect(one.test('doc12.pdf')).toBe(false)
  })

  it('treats regular-expression characters literally', () => {
    expect(compileGlob('a+b(1)[x]{2}^$|\\.txt').test('a+b(1)[x]{2}^$|\\.txt')).toBe(true)
    expect(compileGlob('a+b.txt').test('aab.txt')).toBe(false)
    expect(compileGlob('report.pdf').test('reportXpdf')).toBe(false)
  })

  it('lets * span line breaks (a hostile filename cannot escape the glob)', () => {
    expect(compileGlob('*.exe').test('invoice\n.exe')).toBe(true)
    expect(compileGlob('application/*').test('application/x-msdownload')).toBe(true)
    expect(compileGlob('application/*').test('text/plain')).toBe(false)
  })
})

describe('address conditions', () => {
  it('recipient tests the recipient being decided, not the others', () => {
    const f = facts(receivedMessage({ recipients: ['alice@example.com', 'bob@example.com'] }))
    const condition = address('recipient', ['alice@example.com'])
    expect(evaluateCondition(condition, 'alice@example.com', f)).toBe(true)
    expect(evaluateCondition(condition, 'bob@example.com', f)).toBe(false)
  })

  it('negate (notIn) holds exactly when the address is not in the set', () => {
    const condition = address('recipient', ['alice@example.com'], true)
    expect(evaluateCondition(condition, 'alice+x@Example.com', facts())).toBe(false)
    expect(evaluateCondition(condition, 'mallory@example.com', facts())).toBe(true)
  })

  it('sender tests the envelope sender', () => {
    const f = facts(receivedMessage({ envelopeSender: 'prvs=0123456789=spammer@spam.example' }))
    expect(evaluateCondition(address('sender', ['*@spam.example']), RCPT, f)).toBe(true)
    expect(evaluateCondition(address('sender', ['*@spam.example'], true), RCPT, f)).toBe(false)
    expect(evaluateCondition(address('sender', ['sam@sender.example']), RCPT, f)).toBe(false)
  })

  it('an empty envelope sender is in no set', () => {
    const f = facts(receivedMessage({ envelopeSender: '' }))
    expect(evaluateCondition(address('sender', ['*@example.com']), RCPT, f)).toBe(false)
    expect(evaluateCondition(address('sender', ['*@example.com'], true), RCPT, f)).toBe(true)
  })

  it('from holds when any From address matches', () => {
    const f = facts(receivedMessage({ fromAddresses: ['a@other.example', 'b@partner.example'] }))
    expect(evaluateCondition(address('from', ['*@partner.example']), RCPT, f)).toBe(true)
    expect(evaluateCondition(address('from', ['*@partner.example'], true), RCPT, f)).toBe(false)
    expect(evaluateCondition(address('from', ['*@nowhere.example']), RCPT, f)).toBe(false)
    expect(evaluateCondition(address('from', ['*@nowhere.example'], true), RCPT, f)).toBe(true)
  })

  it('from needs the content when the event does not know the From addresses', () => {
    const unknown = facts(receivedMessage({ fromAddresses: undefined, headersTruncated: true }))
    expect(evaluateCondition(address('from', ['*@partner.example']), RCPT, unknown)).toEqual({
      needs: 'content',
    })
    expect(evaluateCondition(address('from', ['*@partner.example'], true), RCPT, unknown)).toEqual({
      needs: 'content',
    })
    const read = facts(unknown.message, { content: content({ fromAddresses: ['x@partner.example'] }) })
    expect(evaluateCondition(address('from', ['*@partner.example']), RCPT, read)).toBe(true)
  })

  it('from prefers the parsed message over the event', () => {
    const f = facts(receivedMessage({ fromAddresses: ['x@partner.example'] }), {
      content: content({ fromAddresses: ['y@elsewhere.example'] }),
    })
    expect(fromAddresses(f)).toEqual(['y@elsewhere.example'])
    expect(evaluateCondition(address('from', ['*@partner.example']), RCPT, f)).toBe(false)
  })

  it('a message without From addresses matches no in-list and every notIn-list', () => {
    const f = facts(receivedMessage({ fromAddresses: [] }))
    expect(evaluateCondition(address('from', ['*@partner.example']), RCPT, f)).toBe(false)
    expect(evaluateCondition(address('from', ['*@partner.example'], true), RCPT, f)).toBe(true)
  })
})

describe('verdict conditions', () => {
  const names: VerdictName[] = ['spam', 'virus', 'spf', 'dkim', 'dmarc']
  it.each(names)('%s: a single status and a list of statuses', (name) => {
    const failing = facts(receivedMessage({ verdicts: { [name]: 'FAIL' } }))
    const gray = facts(receivedMessage({ verdicts: { [name]: 'GRAY' } }))
    const single: Condition = { kind: 'verdict', verdict: name, statuses: new Set<VerdictStatus>(['FAIL']) }
    const list: Condition = {
      kind: 'verdict',
      verdict: name,
      statuses: new Set<VerdictStatus>(['GRAY', 'PROCESSING_FAILED']),
    }
    expect(evaluateCondition(single, RCPT, failing)).toBe(true)
    expect(evaluateCondition(single, RCPT, gray)).toBe(false)
    expect(evaluateCondition(single, RCPT, facts())).toBe(false)
    expect(evaluateCondition(list, RCPT, gray)).toBe(true)
    expect(evaluateCondition(list, RCPT, failing)).toBe(false)
    expect(
      evaluateCondition(list, RCPT, facts(receivedMessage({ verdicts: { [name]: 'PROCESSING_FAILED' } }))),
    ).toBe(true)
  })

  it('only looks at its own verdict', () => {
    const f = facts(receivedMessage({ verdicts: { spf: 'FAIL', dkim: 'DISABLED' } }))
    const dmarcFail: Condition = { kind: 'verdict', verdict: 'dmarc', statuses: new Set(['FAIL'] as const) }
    const dkimDisabled: Condition = {
      kind: 'verdict',
      verdict: 'dkim',
      statuses: new Set(['DISABLED'] as const),
    }
    expect(evaluateCondition(dmarcFail, RCPT, f)).toBe(false)
    expect(evaluateCondition(dkimDisabled, RCPT, f)).toBe(true)
  })
})

describe('dmarcPolicy condition', () => {
  const reject: Condition = { kind: 'dmarcPolicy', policies: new Set(['reject'] as const) }
  const either: Condition = { kind: 'dmarcPolicy', policies: new Set(['quarantine', 'reject'] as const) }

  it('holds for a listed policy', () => {
    expect(evaluateCondition(reject, RCPT, facts(receivedMessage({ dmarcPolicy: 'reject' })))).toBe(true)
    expect(evaluateCondition(either, RCPT, facts(receivedMessage({ dmarcPolicy: 'quarantine' })))).toBe(true)
  })

  it('fails for another policy and when the event has none', () => {
    expect(evaluateCondition(reject, RCPT, facts(receivedMessage({ dmarcPolicy: 'quarantine' })))).toBe(false)
    expect(evaluateCondition(either, RCPT, facts(receivedMessage({ dmarcPolicy: 'none' })))).toBe(false)
    expect(evaluateCondition(either, RCPT, facts())).toBe(false)
  })
})

describe('size condition', () => {
  const over: Condition = { kind: 'size', overBytes: 1000 }

  it('needs the size when it is not known', () => {
    expect(evaluateCondition(over, RCPT, facts())).toEqual({ needs: 'size' })
  })

  it('holds only strictly over the limit', () => {
    expect(evaluateCondition(over, RCPT, facts(receivedMessage(), { sizeBytes: 999 }))).toBe(false)
    expect(evaluateCondition(over, RCPT, facts(receivedMessage(), { sizeBytes: 1000 }))).toBe(false)
    expect(evaluateCondition(over, RCPT, facts(receivedMessage(), { sizeBytes: 1001 }))).toBe(true)
  })

  it('takes the size of the parsed message when there is one', () => {
    const f = facts(receivedMessage(), { sizeBytes: 10, content: content({ sizeBytes: 5000 }) })
    expect(evaluateCondition(over, RCPT, f)).toBe(true)
    const g = facts(receivedMessage(), { content: content({ sizeBytes: 5 }) })
    expect(evaluateCondition(over, RCPT, g)).toBe(false)
  })
})

describe('attachment condition', () => {
  const exe: Condition = { kind: 'attachment', filename: ['*.exe', '*.scr'].map(compileGlob) }
  const zip: Condition = {
    kind: 'attachment',
    contentType: ['application/zip', 'application/x-*'].map(compileGlob),
  }
  const both: Condition = {
    kind: 'attachment',
    filename: ['*.pdf'].map(compileGlob),
    contentType: ['application/x-msdownload'].map(compileGlob),
  }
  const withAttachments = (...attachments: ReturnType<typeof attachment>[]) =>
    facts(receivedMessage(), { content: content({ attachments }) })

  it('needs the content', () => {
    expect(evaluateCondition(exe, RCPT, facts())).toEqual({ needs: 'content' })
    expect(evaluateCondition(exe, RCPT, facts(receivedMessage(), { sizeBytes: 10 }))).toEqual({
      needs: 'content',
    })
  })

  it('filename globs are case-insensitive and any attachment may match', () => {
    const f = withAttachments(
      attachment('notes.txt', 'text/plain'),
      attachment('Invoice.PDF.Exe', 'application/octet-stream'),
    )
    expect(evaluateCondition(exe, RCPT, f)).toBe(true)
    expect(evaluateCondition(exe, RCPT, withAttachments(attachment('notes.txt', 'text/plain')))).toBe(false)
    expect(evaluateCondition(exe, RCPT, withAttachments())).toBe(false)
  })

  it('an attachment without a filename never matches a filename glob, even *', () => {
    const star: Condition = { kind: 'attachment', filename: [compileGlob('*')] }
    expect(
      evaluateCondition(star, RCPT, withAttachments(attachment(undefined, 'application/x-msdownload'))),
    ).toBe(false)
    expect(evaluateCondition(star, RCPT, withAttachments(attachment('', 'text/plain')))).toBe(true)
  })

  it('contentType globs are case-insensitive and apply with or without a filename', () => {
    expect(evaluateCondition(zip, RCPT, withAttachments(attachment(undefined, 'Application/ZIP')))).toBe(true)
    expect(evaluateCondition(zip, RCPT, withAttachments(attachment('a.bin', 'application/x-dosexec')))).toBe(
      true,
    )
    expect(evaluateCondition(zip, RCPT, withAttachments(attachment('a.pdf', 'application/pdf')))).toBe(false)
  })

  it('filename and contentType must both hold for the same attachment', () => {
    const split = withAttachments(
      attachment('a.pdf', 'application/pdf'),
      attachment('b.exe', 'application/x-msdownload'),
    )
    expect(evaluateCondition(both, RCPT, split)).toBe(false)
    const same = withAttachments(attachment('a.PDF', 'APPLICATION/X-MSDOWNLOAD'))
    expect(evaluateCondition(both, RCPT, same)).toBe(true)
  })
})

describe('header condition', () => {
  const message = receivedMessage({
    headers: [
      header('Subject', 'Quarterly  Report'),
      header('X-Tag', ' first '),
      header('X-Tag', 'Second Value'),
      header('List-Unsubscribe', '<mailto:unsub@list.example>'),
    ],
  })
  const f = facts(message)

  it('exists true / false, by case-insensitive name', () => {
    expect(
      evaluateCondition(headerCondition('list-unsubscribe', { kind: 'exists', expected: true }), RCPT, f),
    ).toBe(true)
    expect(
      evaluateCondition(headerCondition('LIST-UNSUBSCRIBE', { kind: 'exists', expected: true }), RCPT, f),
    ).toBe(true)
    expect(
      evaluateCondition(headerCondition('list-unsubscribe', { kind: 'exists', expected: false }), RCPT, f),
    ).toBe(false)
    expect(evaluateCondition(headerCondition('x-missing', { kind: 'exists', expected: true }), RCPT, f)).toBe(
      false,
    )
    expect(
      evaluateCondition(headerCondition('x-missing', { kind: 'exists', expected: false }), RCPT, f),
    ).toBe(true)
  })

  it('equals compares the trimmed value case-insensitively, any occurrence', () => {
    expect(evaluateCondition(headerCondition('x-tag', { kind: 'equals', value: 'FIRST' }), RCPT, f)).toBe(
      true,
    )
    expect(
      evaluateCondition(headerCondition('x-tag', { kind: 'equals', value: 'second value' }), RCPT, f),
    ).toBe(true)
    expect(evaluateCondition(headerCondition('x-tag', { kind: 'equals', value: 'second' }), RCPT, f)).toBe(
      false,
    )
    expect(evaluateCondition(headerCondition('x-missing', { kind: 'equals', value: '' }), RCPT, f)).toBe(
      false,
    )
  })

  it('contains is a case-insensitive substring test, any occurrence', () => {
    expect(evaluateCondition(headerCondition('x-tag', { kind: 'contains', value: 'OND VAL' }), RCPT, f)).toBe(
      true,
    )
    expect(
      evaluateCondition(headerCondition('subject', { kind: 'contains', value: 'quarterly  r' }), RCPT, f),
    ).toBe(true)
    expect(
      evaluateCondition(headerCondition('subject', { kind: 'contains', value: 'annual' }), RCPT, f),
    ).toBe(false)
  })

  const matches = (source: string, flags = ''): HeaderTest => ({
    kind: 'matches',
    pattern: re2PatternEngine.compile(source, flags),
  })

  it('matches runs the regular expression on any occurrence', () => {
    expect(evaluateCondition(headerCondition('x-tag', matches('^second')), RCPT, f)).toBe(false)
    expect(evaluateCondition(headerCondition('x-tag', matches('^second', 'i')), RCPT, f)).toBe(true)
    expect(evaluateCondition(headerCondition('x-missing', matches('.*')), RCPT, f)).toBe(false)
  })

  it(`matches looks at the first ${HEADER_MATCH_LIMIT} characters of a value only`, () => {
    expect(HEADER_MATCH_LIMIT).toBe(8192)
    const inside = `${'a'.repeat(HEADER_MATCH_LIMIT - 6)}MARKER${'b'.repeat(100)}`
    const straddling = `${'a'.repeat(HEADER_MATCH_LIMIT - 5)}MARKER`
    const beyond = `${'a'.repeat(HEADER_MATCH_LIMIT)}MARKER`
    const test = (value: string, source: string) =>
      evaluateCondition(
        headerCondition('x-long', matches(source)),
        RCPT,
        facts(receivedMessage({ headers: [header('X-Long', value)] })),
      )
    expect(test(inside, 'MARKER')).toBe(true)
    expect(test(straddling, 'MARKER')).toBe(false)
    expect(test(beyond, 'MARKER')).toBe(false)
    expect(test(beyond, 'a$')).toBe(true)
  })

  it('needs the content when SES truncated the headers and the header is not in the event', () => {
    const truncated = receivedMessage({ headers: [header('Subject', 'x')], headersTruncated: true })
    for (const test of [
      { kind: 'exists', expected: true },
      { kind: 'exists', expected: false },
      { kind: 'equals', value: 'x' },
      { kind: 'contains', value: 'x' },
      { kind: 'matches', regex: /x/ },
    ] as HeaderTest[]) {
      expect(evaluateCondition(headerCondition('x-missing', test), RCPT, facts(truncated))).toEqual({
        needs: 'content',
      })
    }
    // A header the event does show answers at once, even with truncated headers.
    expect(
      evaluateCondition(headerCondition('subject', { kind: 'equals', value: 'x' }), RCPT, facts(truncated)),
    ).toBe(true)
    // With the parsed message, the parsed headers are the answer.
    const read = facts(truncated, { content: content({ headers: [header('X-Missing', 'here')] }) })
    expect(
      evaluateCondition(headerCondition('x-missing', { kind: 'equals', value: 'here' }), RCPT, read),
    ).toBe(true)
    const readWithout = facts(truncated, { content: content({ headers: [] }) })
    expect(
      evaluateCondition(headerCondition('x-missing', { kind: 'exists', expected: false }), RCPT, readWithout),
    ).toBe(true)
  })

  it('headerValues answers from the parsed message when present', () => {
    const both = facts(receivedMessage({ headers: [header('X-A', 'event')] }), {
      content: content({ headers: [header('X-A', 'parsed'), header('x-a', 'again')] }),
    })
    expect(headerValues(both, 'X-A')).toEqual(['parsed', 'again'])
    expect(headerValues(facts(receivedMessage({ headers: [] })), 'x-a')).toEqual([])
    expect(
      headerValues(facts(receivedMessage({ headers: [], headersTruncated: true })), 'x-a'),
    ).toBeUndefined()
  })
})

describe('evaluateRule', () => {
  const size: Condition = { kind: 'size', overBytes: 10 }
  const attach: Condition = { kind: 'attachment', filename: [compileGlob('*.exe')] }
  const yes = address('recipient', [RCPT])
  const no = address('recipient', ['bob@example.com'])

  it('a rule without conditions always holds', () => {
    expect(evaluateRule(rule([]), RCPT, facts())).toBe(true)
  })

  it('every condition must hold', () => {
    expect(evaluateRule(rule([yes, yes]), RCPT, facts())).toBe(true)
    expect(evaluateRule(rule([yes, no]), RCPT, facts())).toBe(false)
    expect(evaluateRule(rule([no, yes]), RCPT, facts())).toBe(false)
  })

  it('a failing condition decides even when another needs facts, in any order', () => {
    expect(evaluateRule(rule([size, no]), RCPT, facts())).toBe(false)
    expect(evaluateRule(rule([attach, size, no]), RCPT, facts())).toBe(false)
  })

  it('asks for the most facts any undecided condition needs', () => {
    expect(evaluateRule(rule([yes, size]), RCPT, facts())).toEqual({ needs: 'size' })
    expect(evaluateRule(rule([size, attach]), RCPT, facts())).toEqual({ needs: 'content' })
    expect(evaluateRule(rule([attach, size]), RCPT, facts())).toEqual({ needs: 'content' })
  })

  it('decides once the facts are there', () => {
    const small = facts(receivedMessage(), { sizeBytes: 5 })
    expect(evaluateRule(rule([size, attach]), RCPT, small)).toBe(false)
    const big = facts(receivedMessage(), { sizeBytes: 50 })
    expect(evaluateRule(rule([size, attach]), RCPT, big)).toEqual({ needs: 'content' })
    const read = facts(receivedMessage(), {
      content: content({ sizeBytes: 50, attachments: [attachment('x.exe', 'a/b')] }),
    })
    expect(evaluateRule(rule([size, attach]), RCPT, read)).toBe(true)
  })
})

describe('fact levels', () => {
  it('conditionCost: size needs the size, attachment the content, the rest the event', () => {
    expect(conditionCost({ kind: 'size', overBytes: 1 })).toBe('size')
    expect(conditionCost({ kind: 'attachment', contentType: [compileGlob('*')] })).toBe('content')
    expect(conditionCost(address('from', ['a@b.c']))).toBe('event')
    expect(conditionCost(headerCondition('x', { kind: 'exists', expected: true }))).toBe('event')
    expect(conditionCost({ kind: 'dmarcPolicy', policies: new Set(['reject'] as const) })).toBe('event')
  })

  it('moreFacts: only content is more than size', () => {
    expect(moreFacts('content', 'size')).toBe(true)
    expect(moreFacts('size', 'content')).toBe(false)
    expect(moreFacts('size', 'size')).toBe(false)
    expect(moreFacts('content', 'content')).toBe(false)
  })

  it('factsRulesMayNeed: the most any rule condition may ask of the store', () => {
    const bounce = { kind: 'bounce', bounce: bounceSpec({ type: 'DoesNotExist' }) } as const
    const r = (conditions: Condition[]): Rule => ({ name: 'x', conditions, action: bounce })
    expect(factsRulesMayNeed([])).toBe('event')
    expect(factsRulesMayNeed([r([address('recipient', ['a@b.c'])])])).toBe('event')
    expect(factsRulesMayNeed([r([]), r([{ kind: 'size', overBytes: 1 }])])).toBe('size')
    expect(
      factsRulesMayNeed([
        r([{ kind: 'attachment', filename: [compileGlob('*')] }]),
        r([{ kind: 'size', overBytes: 1 }]),
      ]),
    ).toBe('content')
  })
})
