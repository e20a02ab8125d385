// Issue 14: a limit decides, it does not switch the rules off. What a parsing limit cut off leaves
// a rule unsettled — never false — and the rules file's onUnreadable decides the recipients the
// rules could not settle; an attachment seen before the cut still matches. Also the limits of the
// MIME scanner themselves (depth, structured fields) and of the `matches` budget.

import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { MESSAGE_LIMITS, parseMessage } from '../../src/adapters/mime-parser.js'
import { decide, ON_UNREADABLE } from '../../src/domain/decide.js'
import type { CutOff, MessageContent, MessageFacts } from '../../src/domain/message.js'
import type { RuleSet } from '../../src/domain/rule-set.js'
import {
  evaluateCondition,
  HEADER_MATCH_LIMIT,
  MATCH_BUDGET,
  type TextPattern,
  UNSETTLED,
} from '../../src/domain/rules.js'
import {
  attachment,
  content,
  facts,
  header,
  loadFromYaml,
  receivedMessage,
  ruleSetFromYaml,
  rulesYaml,
} from './support/builders.js'

const STRUCTURE_CUT: CutOff = {
  limits: ['MIME nesting deeper than 100 levels'],
  attachments: true,
  headers: false,
  from: false,
}
const HEADERS_CUT: CutOff = {
  limits: ['a header block over 2097152 bytes'],
  attachments: true,
  headers: true,
  from: true,
}

function cutContent(overrides: Partial<MessageContent>, cutOff: CutOff = STRUCTURE_CUT): MessageContent {
  return content({ ...overrides, cutOff })
}

function outcomes(set: RuleSet, f: MessageFacts): string[] {
  const outcome = decide(set.rules, set.safety, f, set.onUnreadable)
  if (outcome.kind !== 'decided') return [`needs ${outcome.facts}`]
  return outcome.decisions.map((d) => `${d.recipient}:${d.action}${d.rule === undefined ? '' : `:${d.rule}`}`)
}

const NO_EXE = `
  - name: no-executables
    when: { attachment: { filename: ["*.exe"] } }
    bounce: { type: ContentRejected }`

const withContent = (c: MessageContent, recipients = ['alice@example.com']) =>
  facts(receivedMessage({ recipients, headersTruncated: false }), { content: c, sizeBytes: c.sizeBytes })

describe('onUnreadable: what the rules could not settle', () => {
  it('an attachment seen before the cut still bounces, whatever onUnreadable says', () => {
    for (const preamble of ['', 'onUnreadable: continue', 'onUnreadable: drop']) {
      const set = ruleSetFromYaml(rulesYaml(NO_EXE, preamble))
      const seen = cutContent({ attachments: [attachment('evil.exe', 'application/octet-stream')] })
      expect(outcomes(set, withContent(seen))).toEqual(['alice@example.com:bounce:no-executables'])
    }
  })

  it('no match before the cut: continue (the default) delivers, naming onUnreadable', () => {
    const set = ruleSetFromYaml(rulesYaml(NO_EXE))
    expect(set.onUnreadable).toEqual({ kind: 'accept' })
    const cut = cutContent({ attachments: [attachment('notes.txt', 'text/plain')] })
    expect(outcomes(set, withContent(cut))).toEqual([`alice@example.com:accept:${ON_UNREADABLE}`])
    // read whole, the same message is simply accepted
    expect(outcomes(set, withContent(content({ attachments: cut.attachments })))).toEqual([
      'alice@example.com:accept',
    ])
  })

  it('drop and bounce are the operator’s choice', () => {
    const drop = ruleSetFromYaml(rulesYaml(NO_EXE, 'onUnreadable: drop'))
    const bounce = ruleSetFromYaml(
      rulesYaml(NO_EXE, 'onUnreadable: { bounce: { type: ContentRejected, status: 5.7.1 } }'),
    )
    const f = withContent(cutContent({}), ['alice@example.com', 'postmaster@example.com'])
    // bounce rules pass over postmaster (RFC 5321 §4.5.1): nothing was left unsettled for it
    expect(outcomes(drop, f)).toEqual([
      `alice@example.com:drop:${ON_UNREADABLE}`,
      'postmaster@example.com:accept',
    ])
    expect(outcomes(bounce, f)).toEqual([
      `alice@example.com:bounce:${ON_UNREADABLE}`,
      'postmaster@example.com:accept',
    ])
    const outcome = decide(bounce.rules, bounce.safety, f, bounce.onUnreadable)
    const first = outcome.kind === 'decided' ? outcome.decisions[0] : undefined
    expect(first?.action === 'bounce' && first.bounce.status).toBe('5.7.1')
  })

  it('a recipient settled by an earlier rule is not touched by the cut', () => {
    const set = ruleSetFromYaml(
      rulesYaml(`
  - name: unknown
    when: { recipient: { notIn: [alice@example.com] } }
    bounce: { type: DoesNotExist }${NO_EXE}`),
    )
    expect(outcomes(set, withContent(cutContent({}), ['ghost@example.com', 'alice@example.com']))).toEqual([
      'ghost@example.com:bounce:unknown',
      `alice@example.com:accept:${ON_UNREADABLE}`,
    ])
  })

  it('a rule after an unsettled one decides only when both act alike', () => {
    const bounceThenBounce = ruleSetFromYaml(
      rulesYaml(`${NO_EXE}
  - name: no-scripts
    when: { attachment: { filename: ["*.js"] } }
    bounce: { type: ContentRejected }`),
    )
    const acceptThenBounce = ruleSetFromYaml(
      rulesYaml(`
  - name: invoices
    when: { attachment: { filename: ["invoice*.pdf"] } }
    accept: true
  - name: no-scripts
    when: { attachment: { filename: ["*.js"] } }
    bounce: { type: ContentRejected }`),
    )
    const js = withContent(cutContent({ attachments: [attachment('run.js', 'text/javascript')] }))
    // an .exe after the cut would bounce too: bounced by the rule that matched
    expect(outcomes(bounceThenBounce, js)).toEqual(['alice@example.com:bounce:no-scripts'])
    // an invoice after the cut would have accepted it: not settled
    expect(outcomes(acceptThenBounce, js)).toEqual([`alice@example.com:accept:${ON_UNREADABLE}`])
  })

  it('missing facts come first: a rule that still needs the message asks for it', () => {
    const set = ruleSetFromYaml(rulesYaml(NO_EXE))
    expect(outcomes(set, facts(receivedMessage()))).toEqual(['needs content'])
  })
})

describe('conditions on cut-off facts: unsettled, never false', () => {
  const RCPT = 'alice@example.com'

  it('header tests: a match on what was read holds; no match is unsettled; exists: false is unsettled', () => {
    const f = facts(receivedMessage({ headersTruncated: true }), {
      content: cutContent({ headers: [header('Subject', 'Win a prize')] }, HEADERS_CUT),
    })
    const test = (name: string, t: Parameters<typeof evaluateCondition>[0]) =>
      evaluateCondition({ ...t, name } as never, RCPT, f)
    const headerCondition = (name: string, kind: 'contains' | 'exists', value: string | boolean) => ({
      kind: 'header' as const,
      name,
      test: kind === 'exists' ? { kind, expected: value as boolean } : { kind, value: value as string },
    })
    expect(test('subject', headerCondition('subject', 'contains', 'prize'))).toBe(true)
    expect(test('subject', headerCondition('subject', 'contains', 'lottery'))).toBe(UNSETTLED)
    expect(test('x-spam', headerCondition('x-spam', 'exists', true))).toBe(UNSETTLED)
    expect(test('x-spam', headerCondition('x-spam', 'exists', false))).toBe(UNSETTLED)
    expect(test('subject', headerCondition('subject', 'exists', false))).toBe(false)
  })

  it('from: an address read matches; none read is unsettled for in and notIn alike', () => {
    const set = ruleSetFromYaml(
      rulesYaml(`
  - name: blocked
    when: { from: { in: ["*@blocked.example"] } }
    drop: true`),
    )
    const cutFrom = (addresses: string[]) =>
      facts(receivedMessage({ fromAddresses: undefined, headersTruncated: true }), {
        content: cutContent({ fromAddresses: addresses }, { ...HEADERS_CUT, attachments: false }),
      })
    expect(outcomes(set, cutFrom(['x@blocked.example']))).toEqual(['alice@example.com:drop:blocked'])
    expect(outcomes(set, cutFrom(['x@fine.example']))).toEqual([`alice@example.com:accept:${ON_UNREADABLE}`])
  })

  it('matches tests each value within MATCH_BUDGET / cost characters, then is unsettled', () => {
    let tested = 0
    const counting = (cost: number): TextPattern => ({
      source: 'spy',
      cost,
      test: (text) => {
        tested += text.length * cost
        return false
      },
    })
    const values = Array.from({ length: 40 }, () => header('X-Note', 'n'.repeat(HEADER_MATCH_LIMIT + 100)))
    const f = facts(receivedMessage({ headers: values }))
    for (const cost of [1, 17, 512]) {
      tested = 0
      const truth = evaluateCondition(
        { kind: 'header', name: 'x-note', test: { kind: 'matches', pattern: counting(cost) } },
        RCPT,
        f,
      )
      expect(tested).toBeLessThanOrEqual(MATCH_BUDGET)
      // 40 values of 8 KB tested are 327,680 characters: within the budget only at cost 1
      expect(truth).toBe(cost === 1 ? false : UNSETTLED)
    }
  })
})

describe('the rules file: onUnreadable', () => {
  it('continue, drop or a bounce; anything else is a problem with its path', () => {
    expect(ruleSetFromYaml(rulesYaml(NO_EXE, 'onUnreadable: drop')).onUnreadable).toEqual({ kind: 'drop' })
    expect(() => loadFromYaml(rulesYaml(NO_EXE, 'onUnreadable: bounce'))).toThrow(
      /onUnreadable \(line 3, column 1\): expected continue, drop or \{ bounce: \{ type: \.\.\. \} \}; got "bounce"/,
    )
    expect(() => loadFromYaml(rulesYaml(NO_EXE, 'onUnreadable: { bounce: { type: Nope } }'))).toThrow(
      /onUnreadable/,
    )
  })

  it('no rule may be named onUnreadable: its decisions are the setting’s', () => {
    expect(() => loadFromYaml(rulesYaml('  - { name: onUnreadable, drop: true }'))).toThrow(
      /rules\[0\] "onUnreadable" name \(line 5, column 7\): onUnreadable names the decisions of that setting/,
    )
  })

  it('a bouncing onUnreadable needs a bounce sender like a bouncing rule', () => {
    expect(() =>
      loadFromYaml(
        'onUnreadable: { bounce: { type: ContentRejected } }\nrules:\n  - { name: a, drop: true }\n',
      ),
    ).toThrow(/ {2}- bounceSender: required when onUnreadable bounces/)
  })
})

describe('the scanner’s limits', () => {
  async function parse(text: string, size?: number) {
    const bytes = Buffer.from(text, 'latin1')
    return parseMessage(Readable.from([bytes]), AbortSignal.timeout(10_000), size ?? bytes.length)
  }

  function nested(depth: number): string {
    const lines = ['Content-Type: multipart/mixed; boundary="b0"', '']
    for (let level = 1; level < depth; level++)
      lines.push(`--b${level - 1}`, `Content-Type: multipart/mixed; boundary="b${level}"`, '')
    lines.push(`--b${depth - 1}`, 'Content-Type: application/octet-stream; name="deep.exe"', '', 'MZ', '')
    return lines.join('\r\n')
  }

  it(`a part ${MESSAGE_LIMITS.maxDepth} levels down is read; one more level is cut off`, async () => {
    const at = await parse(nested(MESSAGE_LIMITS.maxDepth))
    expect(at.cutOff).toBeUndefined()
    expect(at.attachments.map((a) => a.filename)).toEqual(['deep.exe'])
    const below = await parse(nested(MESSAGE_LIMITS.maxDepth + 1))
    expect(below.cutOff).toEqual({
      limits: [`MIME nesting deeper than ${MESSAGE_LIMITS.maxDepth} levels`],
      attachments: true,
      headers: false,
      from: false,
    })
    expect(below.attachments).toEqual([])
  })

  it('a structured field over its bytes or parameters is cut off, with the size the store gave', async () => {
    const part = (disposition: string) =>
      [
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        '--b',
        'Content-Type: application/octet-stream; name="first.exe"',
        '',
        'MZ',
        '--b',
        `Content-Disposition: ${disposition}`,
        '',
        'x',
        '--b--',
        '',
      ].join('\r\n')
    const long = await parse(
      part(`attachment; filename="${'n'.repeat(MESSAGE_LIMITS.maxFieldBytes)}"`),
      999_999,
    )
    expect(long.cutOff?.limits).toEqual([
      `a content-disposition field over ${MESSAGE_LIMITS.maxFieldBytes} bytes`,
    ])
    expect(long.attachments.map((a) => a.filename)).toEqual(['first.exe'])
    expect(long.sizeBytes).toBe(999_999)
    const segments = Array.from(
      { length: MESSAGE_LIMITS.maxFieldParameters + 1 },
      (_, i) => `filename*${i}=a`,
    )
    const many = await parse(part(`attachment; ${segments.join(';\r\n ')}`))
    expect(many.cutOff?.limits).toEqual([
      `a content-disposition field with over ${MESSAGE_LIMITS.maxFieldParameters} parameters`,
    ])
    const fine = await parse(part(`attachment; ${segments.slice(0, 20).join(';\r\n ')}`))
    expect(fine.cutOff).toBeUndefined()
    expect(fine.attachments.map((a) => a.filename)).toEqual(['first.exe', 'a'.repeat(20)])
  })

  it('a top-level header block over its limit keeps the fields read, less the last', async () => {
    const text = [
      'From: Mallory <m@attacker.example>',
      'Subject: hello',
      `X-Junk: ${'j'.repeat(MESSAGE_LIMITS.maxHeadBytes)}`,
      'Content-Type: application/octet-stream; name="after.exe"',
      '',
      'MZ',
    ].join('\r\n')
    const cut = await parse(text)
    expect(cut.headers).toEqual([
      { name: 'from', value: 'Mallory <m@attacker.example>' },
      { name: 'subject', value: 'hello' },
    ])
    expect(cut.fromAddresses).toEqual(['m@attacker.example'])
    expect(cut.cutOff).toMatchObject({ attachments: true, headers: true, from: true })
  })

  it('From addresses past 16 KiB and encoded words past 64 KiB are left out, and said so', async () => {
    const from = Array.from({ length: 2000 }, (_, i) => `u${i}@crowd.example`).join(', ')
    const words = '=?utf-8?q?abc?= '.repeat(5000)
    const text = [`From: ${from}`, `Subject: ${words}`, 'Content-Type: text/plain', '', 'x'].join('\r\n')
    const parsed = await parse(text)
    expect(parsed.fromAddresses.length).toBeGreaterThan(500)
    expect(parsed.fromAddresses.length).toBeLessThan(2000)
    expect(parsed.fromAddresses.every((address) => /^u\d+@crowd\.example$/.test(address))).toBe(true)
    expect(parsed.headers.find((h) => h.name === 'subject')?.value).toBe(words.trim())
    expect(parsed.cutOff).toEqual({
      limits: ['over 65536 bytes of header values with encoded words', 'a From field over 16384 bytes'],
      attachments: false,
      headers: true,
      from: true,
    })
  })
})
