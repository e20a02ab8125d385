import { describe, expect, it } from 'vitest'
import { bounceSpec } from '../../src/domain/bounce-spec.js'
import { type DecideOutcome, decide } from '../../src/domain/decide.js'
import type { RecipientDecision } from '../../src/domain/decision.js'
import type { MessageFacts, VerdictName } from '../../src/domain/message.js'
import type { RuleSet } from '../../src/domain/rule-set.js'
import {
  attachment,
  content,
  facts,
  header,
  receivedMessage,
  ruleSet,
  ruleSetFromYaml,
  rulesYaml,
} from './support/builders.js'

function run(ruleSet: RuleSet, f: MessageFacts): DecideOutcome {
  return decide(ruleSet.rules, ruleSet.safety, f)
}

/** The decisions of a decided outcome; fails the test when decide() asked for facts instead. */
function decisions(ruleSet: RuleSet, f: MessageFacts): readonly RecipientDecision[] {
  const outcome = run(ruleSet, f)
  if (outcome.kind !== 'decided') throw new Error(`expected a decision, got needs ${outcome.facts}`)
  return outcome.decisions
}

/** `rule` or `accept` for each recipient, for compact assertions. */
function verdicts(ruleSet: RuleSet, f: MessageFacts): string[] {
  return decisions(ruleSet, f).map(
    (d) => `${d.recipient}:${d.action}${d.rule === undefined ? '' : `:${d.rule}`}`,
  )
}

const to = (...recipients: string[]) => receivedMessage({ recipients })

describe('decide: outcomes', () => {
  it('no rules: every recipient is accepted with no rule named', () => {
    const outcome = run(ruleSet('  []'), facts(to('a@example.com', 'b@example.com')))
    expect(outcome).toStrictEqual({
      kind: 'decided',
      decisions: [
        { recipient: 'a@example.com', action: 'accept' },
        { recipient: 'b@example.com', action: 'accept' },
      ],
    })
  })

  it('a bounce decision carries the rule and the compiled bounce spec', () => {
    const set = ruleSet(`
  - name: unknown
    when: { recipient: { notIn: [alice@example.com] } }
    bounce: { type: DoesNotExist }`)
    expect(run(set, facts(to('mallory@example.com')))).toStrictEqual({
      kind: 'decided',
      decisions: [
        {
          recipient: 'mallory@example.com',
          action: 'bounce',
          rule: 'unknown',
          bounce: {
            type: 'DoesNotExist',
            status: '5.1.1',
            diagnostic: 'smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown',
          },
        },
      ],
    })
  })

  it('drop and accept decisions name their rule', () => {
    const set = ruleSet(`
  - name: ok
    when: { recipient: { in: [alice@example.com] } }
    accept: true
  - name: silent
    drop: true`)
    expect(decisions(set, facts(to('alice@example.com', 'bob@example.com')))).toStrictEqual([
      { recipient: 'alice@example.com', action: 'accept', rule: 'ok' },
      { recipient: 'bob@example.com', action: 'drop', rule: 'silent' },
    ])
  })

  it('first matching rule wins; later rules are not consulted', () => {
    const set = ruleSet(`
  - name: first
    when: { recipient: { in: ["*@example.com"] } }
    drop: true
  - name: second
    when: { recipient: { in: [alice@example.com] } }
    bounce: { type: DoesNotExist }
  - name: third
    accept: true`)
    expect(verdicts(set, facts(to('alice@example.com', 'x@other.example')))).toEqual([
      'alice@example.com:drop:first',
      'x@other.example:accept:third',
    ])
  })

  it('order matters: the same rules reversed decide differently', () => {
    const set = ruleSet(`
  - name: second
    when: { recipient: { in: [alice@example.com] } }
    bounce: { type: DoesNotExist }
  - name: first
    when: { recipient: { in: ["*@example.com"] } }
    drop: true`)
    expect(verdicts(set, facts(to('alice@example.com', 'bob@example.com')))).toEqual([
      'alice@example.com:bounce:second',
      'bob@example.com:drop:first',
    ])
  })

  it('no match accepts', () => {
    const set = ruleSet(`
  - name: blocked
    when: { sender: { in: ["*@spam.example"] } }
    drop: true`)
    expect(decisions(set, facts())).toStrictEqual([{ recipient: 'alice@example.com', action: 'accept' }])
  })

  it('decides each recipient on its own', () => {
    const set = ruleSet(`
  - name: known
    when: { recipient: { in: [alice@example.com, "*@support.example.com"] } }
    accept: true
  - name: unknown
    bounce: { type: DoesNotExist }`)
    expect(
      verdicts(
        set,
        facts(
          to('alice@example.com', 'ghost@example.com', 'Desk@Support.Example.com', 'alice+x@example.com'),
        ),
      ),
    ).toEqual([
      'alice@example.com:accept:known',
      'ghost@example.com:bounce:unknown',
      'Desk@Support.Example.com:accept:known',
      'alice+x@example.com:accept:known',
    ])
  })

  it('a recipient listed twice is decided once, keeping the first position', () => {
    const set = ruleSet(`
  - name: unknown
    when: { recipient: { notIn: [alice@example.com] } }
    bounce: { type: DoesNotExist }`)
    expect(verdicts(set, facts(to('ghost@example.com', 'alice@example.com', 'ghost@example.com')))).toEqual([
      'ghost@example.com:bounce:unknown',
      'alice@example.com:accept',
    ])
  })

  it('keeps recipients exactly as the envelope gave them', () => {
    const set = ruleSet(`
  - name: unknown
    bounce: { type: DoesNotExist }`)
    expect(decisions(set, facts(to('Ghost+Tag@Example.COM'))).map((d) => d.recipient)).toEqual([
      'Ghost+Tag@Example.COM',
    ])
  })
})

describe('decide: address conditions', () => {
  const lists = {
    'mailboxes.txt': '# known mailboxes\nalice@example.com\n\n  bob@example.com  \r\n*@support.example.com\n',
    'lists/blocked.txt': '*@spam.example\n*@*.bulk.example\n',
    'partners.txt': '*@partner.example\n',
  }

  it.each([
    ['recipient', 'in', 'alice@example.com', true],
    ['recipient', 'in', 'bob@example.com', false],
    ['recipient', 'notIn', 'bob@example.com', true],
    ['recipient', 'notIn', 'alice+tag@example.com', false],
  ] as const)('%s %s [alice@example.com] for %s → matches %s', (field, key, recipient, matches) => {
    const set = ruleSet(`
  - name: r
    when: { ${field}: { ${key}: [alice@example.com] } }
    drop: true`)
    expect(decisions(set, facts(to(recipient)))[0]?.action).toBe(matches ? 'drop' : 'accept')
  })

  it('recipient inFile / notInFile read the list relative to the rules file', () => {
    const known = ruleSet(
      `
  - name: known
    when: { recipient: { inFile: mailboxes.txt } }
    accept: true
  - name: unknown
    when: { recipient: { notInFile: mailboxes.txt } }
    bounce: { type: DoesNotExist }`,
      { lists },
    )
    expect(verdicts(known, facts(to('bob@example.com', 'x@support.example.com', 'eve@example.com')))).toEqual(
      [
        'bob@example.com:accept:known',
        'x@support.example.com:accept:known',
        'eve@example.com:bounce:unknown',
      ],
    )
  })

  it('sender in / notIn / inFile / notInFile test the envelope sender', () => {
    const check = (when: string, sender: string) =>
      decisions(
        ruleSet(
          `
  - name: r
    when: { sender: ${when} }
    drop: true`,
          { lists },
        ),
        facts(receivedMessage({ envelopeSender: sender })),
      )[0]?.action
    expect(check('{ in: ["*@spam.example"] }', 'x@spam.example')).toBe('drop')
    expect(check('{ in: ["*@spam.example"] }', 'x@ham.example')).toBe('accept')
    expect(check('{ notIn: ["*@ham.example"] }', 'x@spam.example')).toBe('drop')
    expect(check('{ notIn: ["*@ham.example"] }', 'x@ham.example')).toBe('accept')
    expect(check('{ inFile: lists/blocked.txt }', 'prvs=0123456789=x@mx.bulk.example')).toBe('drop')
    expect(check('{ inFile: lists/blocked.txt }', 'x@bulk.example')).toBe('accept')
    expect(check('{ notInFile: lists/blocked.txt }', 'x@ham.example')).toBe('drop')
    expect(check('{ notInFile: lists/blocked.txt }', 'X@SPAM.EXAMPLE')).toBe('accept')
  })

  it('from in / notIn / inFile / notInFile test every From address', () => {
    const check = (when: string, from: string[]) =>
      decisions(
        ruleSet(
          `
  - name: r
    when: { from: ${when} }
    accept: true
  - name: rest
    drop: true`,
          { lists },
        ),
        facts(receivedMessage({ fromAddresses: from })),
      )[0]?.rule
    expect(check('{ in: ["*@partner.example"] }', ['a@x.example', 'b@partner.example'])).toBe('r')
    expect(check('{ in: ["*@partner.example"] }', ['a@x.example'])).toBe('rest')
    expect(check('{ notIn: ["*@partner.example"] }', ['a@x.example'])).toBe('r')
    expect(check('{ notIn: ["*@partner.example"] }', ['a@x.example', 'b@partner.example'])).toBe('rest')
    expect(check('{ inFile: partners.txt }', ['Boss@Partner.Example'])).toBe('r')
    expect(check('{ notInFile: partners.txt }', ['boss@partner.example'])).toBe('rest')
  })
})

describe('decide: verdict and dmarcPolicy conditions', () => {
  const names: VerdictName[] = ['spam', 'virus', 'spf', 'dkim', 'dmarc']

  it.each(names)('verdict %s with a single status and with a list', (name) => {
    // Safety off so the verdict guards do not turn the bounce into a drop here.
    const safety = 'safety: { spam: false, virus: false, forgedSender: false, unverifiedSender: false }'
    const single = ruleSetFromYaml(
      rulesYaml(
        `  - { name: single, when: { verdict: { ${name}: GRAY } }, bounce: { type: ContentRejected } }`,
        safety,
      ),
    )
    const list = ruleSetFromYaml(
      rulesYaml(
        `  - { name: list, when: { verdict: { ${name}: [FAIL, PROCESSING_FAILED] } }, bounce: { type: ContentRejected } }`,
        safety,
      ),
    )
    const withVerdict = (status: 'PASS' | 'FAIL' | 'GRAY' | 'PROCESSING_FAILED' | 'DISABLED') =>
      facts(receivedMessage({ verdicts: { [name]: status } }))
    expect(decisions(single, withVerdict('GRAY'))[0]?.action).toBe('bounce')
    expect(decisions(single, withVerdict('PASS'))[0]?.action).toBe('accept')
    expect(decisions(single, withVerdict('FAIL'))[0]?.action).toBe('accept')
    expect(decisions(list, withVerdict('FAIL'))[0]?.action).toBe('bounce')
    expect(decisions(list, withVerdict('PROCESSING_FAILED'))[0]?.action).toBe('bounce')
    expect(decisions(list, withVerdict('DISABLED'))[0]?.action).toBe('accept')
    expect(decisions(list, withVerdict('GRAY'))[0]?.action).toBe('accept')
  })

  it('several verdicts in one condition must all hold', () => {
    const set = ruleSet('  - { name: r, when: { verdict: { spf: FAIL, dkim: [FAIL, GRAY] } }, drop: true }')
    expect(
      decisions(set, facts(receivedMessage({ verdicts: { spf: 'FAIL', dkim: 'GRAY' } })))[0]?.action,
    ).toBe('drop')
    expect(decisions(set, facts(receivedMessage({ verdicts: { spf: 'FAIL' } })))[0]?.action).toBe('accept')
    expect(decisions(set, facts(receivedMessage({ verdicts: { dkim: 'FAIL' } })))[0]?.action).toBe('accept')
  })

  it('dmarcPolicy single and list; absent policy never matches', () => {
    const single = ruleSet('  - { name: r, when: { dmarcPolicy: reject }, drop: true }')
    const list = ruleSet('  - { name: r, when: { dmarcPolicy: [quarantine, reject] }, drop: true }')
    const withPolicy = (dmarcPolicy?: 'none' | 'quarantine' | 'reject') =>
      facts(receivedMessage(dmarcPolicy === undefined ? {} : { dmarcPolicy }))
    expect(decisions(single, withPolicy('reject'))[0]?.action).toBe('drop')
    expect(decisions(single, withPolicy('quarantine'))[0]?.action).toBe('accept')
    expect(decisions(single, withPolicy())[0]?.action).toBe('accept')
    expect(decisions(list, withPolicy('quarantine'))[0]?.action).toBe('drop')
    expect(decisions(list, withPolicy('reject'))[0]?.action).toBe('drop')
    expect(decisions(list, withPolicy('none'))[0]?.action).toBe('accept')
    expect(decisions(list, withPolicy())[0]?.action).toBe('accept')
  })

  it('the DESIGN example: dmarc FAIL and policy reject → drop', () => {
    const set = ruleSet(
      '  - { name: dmarc-reject, when: { verdict: { dmarc: FAIL }, dmarcPolicy: reject }, drop: true }',
    )
    const failReject = facts(receivedMessage({ verdicts: { dmarc: 'FAIL' }, dmarcPolicy: 'reject' }))
    const failQuarantine = facts(receivedMessage({ verdicts: { dmarc: 'FAIL' }, dmarcPolicy: 'quarantine' }))
    expect(verdicts(set, failReject)).toEqual(['alice@example.com:drop:dmarc-reject'])
    expect(verdicts(set, failQuarantine)).toEqual(['alice@example.com:accept'])
  })
})

describe('decide: size condition', () => {
  it.each([
    ['100', 100],
    ['1K', 1024],
    ['1k', 1024],
    ['256K', 256 * 1024],
    ['10M', 10 * 1024 * 1024],
    ['2m', 2 * 1024 * 1024],
    ['" 3 K "', 3 * 1024],
  ])('over: %s is exactly %i bytes (that many is not over, one more is)', (over, bytes) => {
    const set = ruleSet(
      `  - { name: big, when: { size: { over: ${over} } }, bounce: { type: MessageTooLarge } }`,
    )
    expect(run(set, facts())).toEqual({ kind: 'needs', facts: 'size' })
    expect(decisions(set, facts(receivedMessage(), { sizeBytes: bytes }))[0]?.action).toBe('accept')
    expect(decisions(set, facts(receivedMessage(), { sizeBytes: bytes + 1 }))[0]?.action).toBe('bounce')
  })

  it('over: 0 bounces every non-empty message', () => {
    const set = ruleSet('  - { name: big, when: { size: { over: 0 } }, drop: true }')
    expect(decisions(set, facts(receivedMessage(), { sizeBytes: 0 }))[0]?.action).toBe('accept')
    expect(decisions(set, facts(receivedMessage(), { sizeBytes: 1 }))[0]?.action).toBe('drop')
  })
})

describe('decide: attachment condition', () => {
  const set = ruleSet(`
  - name: no-executables
    when: { attachment: { filename: ["*.exe", "*.scr"] } }
    bounce: { type: ContentRejected }
  - name: no-zip
    when: { attachment: { contentType: ["application/zip", "application/x-zip*"] } }
    drop: true
  - name: pdf-as-exe
    when: { attachment: { filename: ["*.pdf"], contentType: ["application/x-msdownload"] } }
    drop: true`)
  const withAttachments = (...attachments: ReturnType<typeof attachment>[]) =>
    facts(receivedMessage(), { content: content({ attachments }) })

  it('needs the content before deciding', () => {
    expect(run(set, facts())).toEqual({ kind: 'needs', facts: 'content' })
    expect(run(set, facts(receivedMessage(), { sizeBytes: 100 }))).toEqual({
      kind: 'needs',
      facts: 'content',
    })
  })

  it('matches filename globs case-insensitively', () => {
    expect(
      verdicts(
        set,
        withAttachments(
          attachment('README.txt', 'text/plain'),
          attachment('Setup.EXE', 'application/octet-stream'),
        ),
      ),
    ).toEqual(['alice@example.com:bounce:no-executables'])
    expect(verdicts(set, withAttachments(attachment('screen.SCR', 'application/octet-stream')))).toEqual([
      'alice@example.com:bounce:no-executables',
    ])
  })

  it('matches content-type globs with and without a filename', () => {
    expect(verdicts(set, withAttachments(attachment(undefined, 'Application/Zip')))).toEqual([
      'alice@example.com:drop:no-zip',
    ])
    expect(verdicts(set, withAttachments(attachment('a.bin', 'application/x-zip-compressed')))).toEqual([
      'alice@example.com:drop:no-zip',
    ])
    expect(verdicts(set, withAttachments(attachment(undefined, 'application/x-msdownload')))).toEqual([
      'alice@example.com:accept',
    ])
  })

  it('filename and content type together must describe one attachment', () => {
    expect(verdicts(set, withAttachments(attachment('invoice.pdf', 'application/x-msdownload')))).toEqual([
      'alice@example.com:drop:pdf-as-exe',
    ])
    expect(
      verdicts(
        set,
        withAttachments(
          attachment('invoice.pdf', 'application/pdf'),
          attachment(undefined, 'application/x-msdownload'),
        ),
      ),
    ).toEqual(['alice@example.com:accept'])
  })

  it('no attachments: accept', () => {
    expect(verdicts(set, withAttachments())).toEqual(['alice@example.com:accept'])
  })
})

describe('decide: header condition', () => {
  const msg = (...headers: ReturnType<typeof header>[]) =>
    facts(receivedMessage({ headers: [header('Content-Type', 'text/plain'), ...headers] }))

  it('exists: true / false', () => {
    const present = ruleSet(
      '  - { name: r, when: { header: { name: List-Unsubscribe, exists: true } }, drop: true }',
    )
    const absent = ruleSet(
      '  - { name: r, when: { header: { name: list-unsubscribe, exists: false } }, drop: true }',
    )
    const bulk = msg(header('List-Unsubscribe', '<mailto:u@l.example>'))
    expect(decisions(present, bulk)[0]?.action).toBe('drop')
    expect(decisions(present, msg())[0]?.action).toBe('accept')
    expect(decisions(absent, bulk)[0]?.action).toBe('accept')
    expect(decisions(absent, msg())[0]?.action).toBe('drop')
  })

  it('equals, contains', () => {
    const equals = ruleSet(
      '  - { name: r, when: { header: { name: Precedence, equals: bulk } }, drop: true }',
    )
    const contains = ruleSet(
      '  - { name: r, when: { header: { name: Subject, contains: "WIN A" } }, drop: true }',
    )
    expect(decisions(equals, msg(header('Precedence', ' BULK ')))[0]?.action).toBe('drop')
    expect(decisions(equals, msg(header('Precedence', 'bulky')))[0]?.action).toBe('accept')
    expect(decisions(contains, msg(header('Subject', 'You win a prize')))[0]?.action).toBe('drop')
    expect(decisions(contains, msg(header('Subject', 'You won a prize')))[0]?.action).toBe('accept')
  })

  it('matches: a bare pattern is case-sensitive, /pattern/i is not', () => {
    const bare = ruleSet(
      '  - { name: r, when: { header: { name: X-Mailer, matches: "^Mass ?Mailer" } }, drop: true }',
    )
    const flagged = ruleSet(
      '  - { name: r, when: { header: { name: X-Mailer, matches: "/^mass ?mailer/i" } }, drop: true }',
    )
    expect(decisions(bare, msg(header('X-Mailer', 'MassMailer 2.0')))[0]?.action).toBe('drop')
    expect(decisions(bare, msg(header('X-Mailer', 'massmailer 2.0')))[0]?.action).toBe('accept')
    expect(decisions(flagged, msg(header('X-Mailer', 'MASS MAILER 2.0')))[0]?.action).toBe('drop')
    expect(decisions(flagged, msg(header('X-Mailer', 'Thunderbird')))[0]?.action).toBe('accept')
  })

  it('matches only sees the first 8 KB of a value', () => {
    const set = ruleSet('  - { name: r, when: { header: { name: X-Long, matches: "TAIL" } }, drop: true }')
    expect(decisions(set, msg(header('X-Long', `${'x'.repeat(8188)}TAIL`)))[0]?.action).toBe('drop')
    expect(decisions(set, msg(header('X-Long', `${'x'.repeat(8189)}TAIL`)))[0]?.action).toBe('accept')
  })
})

describe('decide: several conditions (AND)', () => {
  const set = ruleSet(`
  - name: billing-no-bulk
    when:
      recipient: { in: [billing@example.com] }
      header: { name: List-Unsubscribe, exists: true }
      verdict: { dkim: PASS }
    bounce: { type: ContentRejected }`)

  it('matches only when every condition holds', () => {
    const bulk = [header('List-Unsubscribe', '<mailto:u@l.example>')]
    expect(
      verdicts(
        set,
        facts(receivedMessage({ recipients: ['billing@example.com', 'alice@example.com'], headers: bulk })),
      ),
    ).toEqual(['billing@example.com:bounce:billing-no-bulk', 'alice@example.com:accept'])
    expect(verdicts(set, facts(receivedMessage({ recipients: ['billing@example.com'] })))).toEqual([
      'billing@example.com:accept',
    ])
    expect(
      verdicts(
        set,
        facts(
          receivedMessage({ recipients: ['billing@example.com'], headers: bulk, verdicts: { dkim: 'FAIL' } }),
        ),
      ),
    ).toEqual(['billing@example.com:accept'])
  })
})

describe('decide: asks for facts only when it must', () => {
  const sizeRule = ruleSet(`
  - name: blocked
    when: { sender: { in: ["*@spam.example"] }, size: { over: 1K } }
    drop: true`)

  it('a failing cheap condition means no fetch', () => {
    expect(run(sizeRule, facts())).toStrictEqual({
      kind: 'decided',
      decisions: [{ recipient: 'alice@example.com', action: 'accept' }],
    })
    const attachmentRule = ruleSet(`
  - name: exe
    when: { recipient: { in: [billing@example.com] }, attachment: { filename: ["*.exe"] } }
    bounce: { type: ContentRejected }`)
    expect(run(attachmentRule, facts()).kind).toBe('decided')
  })

  it('a passing cheap condition asks for the size, then decides with it', () => {
    const spam = receivedMessage({ envelopeSender: 'x@spam.example' })
    expect(run(sizeRule, facts(spam))).toStrictEqual({ kind: 'needs', facts: 'size' })
    expect(verdicts(sizeRule, facts(spam, { sizeBytes: 1025 }))).toEqual(['alice@example.com:drop:blocked'])
    expect(verdicts(sizeRule, facts(spam, { sizeBytes: 1024 }))).toEqual(['alice@example.com:accept'])
  })

  it('a rule that needs facts stops the rules after it from deciding (first match wins)', () => {
    const set = ruleSet(`
  - { name: big, when: { size: { over: 1M } }, drop: true }
  - { name: all, accept: true }`)
    expect(run(set, facts())).toEqual({ kind: 'needs', facts: 'size' })
  })

  it('a rule decided before the expensive one means no fetch', () => {
    const set = ruleSet(`
  - { name: all, accept: true }
  - { name: big, when: { size: { over: 1M } }, drop: true }`)
    expect(verdicts(set, facts())).toEqual(['alice@example.com:accept:all'])
  })

  it('asks for the most facts over all recipients', () => {
    const set = ruleSet(`
  - { name: a, when: { recipient: { in: [a@example.com] }, size: { over: 1M } }, drop: true }
  - { name: b, when: { recipient: { in: [b@example.com] }, attachment: { filename: ["*.exe"] } }, drop: true }`)
    expect(run(set, facts(to('a@example.com')))).toEqual({ kind: 'needs', facts: 'size' })
    expect(run(set, facts(to('b@example.com')))).toEqual({ kind: 'needs', facts: 'content' })
    expect(run(set, facts(to('a@example.com', 'b@example.com')))).toEqual({ kind: 'needs', facts: 'content' })
    expect(run(set, facts(to('b@example.com', 'a@example.com')))).toEqual({ kind: 'needs', facts: 'content' })
    expect(run(set, facts(to('c@example.com'))).kind).toBe('decided')
  })

  it('a header missing from truncated event headers needs the content', () => {
    const set = ruleSet('  - { name: r, when: { header: { name: X-Spam-Flag, equals: "YES" } }, drop: true }')
    const truncated = receivedMessage({
      headersTruncated: true,
      headers: [header('Content-Type', 'text/plain')],
    })
    expect(run(set, facts(truncated))).toEqual({ kind: 'needs', facts: 'content' })
    expect(
      verdicts(set, facts(truncated, { content: content({ headers: [header('X-Spam-Flag', 'yes')] }) })),
    ).toEqual(['alice@example.com:drop:r'])
    expect(verdicts(set, facts(truncated, { content: content({ headers: [] }) }))).toEqual([
      'alice@example.com:accept',
    ])
    // Not truncated: a missing header is simply missing.
    expect(run(set, facts(receivedMessage())).kind).toBe('decided')
  })

  it('an unknown From needs the content; known From decides from the event', () => {
    const set = ruleSet('  - { name: partners, when: { from: { in: ["*@partner.example"] } }, accept: true }')
    const unknownFrom = receivedMessage({ fromAddresses: undefined, headersTruncated: true })
    expect(run(set, facts(unknownFrom))).toEqual({ kind: 'needs', facts: 'content' })
    expect(
      verdicts(set, facts(unknownFrom, { content: content({ fromAddresses: ['ceo@partner.example'] }) })),
    ).toEqual(['alice@example.com:accept:partners'])
  })

  it('asks for the content when only the guard cannot be settled', () => {
    const set = ruleSet('  - { name: unknown, bounce: { type: DoesNotExist } }')
    // Auto-Submitted and Content-Type both unknown: SES cut the headers.
    const truncated = receivedMessage({ headersTruncated: true, headers: [header('Subject', 'x')] })
    expect(run(set, facts(truncated))).toEqual({ kind: 'needs', facts: 'content' })
    const read = facts(truncated, {
      content: content({
        headers: [header('Auto-Submitted', 'auto-replied'), header('Content-Type', 'text/plain')],
      }),
    })
    expect(decisions(set, read)[0]).toMatchObject({ action: 'drop', guard: 'autoSubmitted' })
    const human = facts(truncated, { content: content({ headers: [header('Content-Type', 'text/plain')] }) })
    expect(decisions(set, human)[0]?.action).toBe('bounce')
  })

  it('does not consult the guard (nor fetch for it) when nothing bounces', () => {
    const set = ruleSet('  - { name: quiet, drop: true }')
    const truncated = receivedMessage({ headersTruncated: true, headers: [] })
    expect(run(set, facts(truncated))).toStrictEqual({
      kind: 'decided',
      decisions: [{ recipient: 'alice@example.com', action: 'drop', rule: 'quiet' }],
    })
  })
})

describe('decide: guard applies to every bounce of the message', () => {
  it('turns each bounce into a drop naming the guard, leaving accepts and rule drops as they were', () => {
    const set = ruleSet(`
  - { name: known, when: { recipient: { in: [alice@example.com] } }, accept: true }
  - { name: quiet, when: { recipient: { in: [quiet@example.com] } }, drop: true }
  - { name: unknown, bounce: { type: DoesNotExist } }`)
    const nullSender = receivedMessage({
      envelopeSender: '',
      recipients: ['alice@example.com', 'quiet@example.com', 'ghost@example.com', 'phantom@example.com'],
    })
    const spec = bounceSpec({ type: 'DoesNotExist' })
    expect(decisions(set, facts(nullSender))).toStrictEqual([
      { recipient: 'alice@example.com', action: 'accept', rule: 'known' },
      { recipient: 'quiet@example.com', action: 'drop', rule: 'quiet' },
      { recipient: 'ghost@example.com', action: 'drop', rule: 'unknown', bounce: spec, guard: 'nullSender' },
      {
        recipient: 'phantom@example.com',
        action: 'drop',
        rule: 'unknown',
        bounce: spec,
        guard: 'nullSender',
      },
    ])
  })
})

describe('postmaster and addresses without a domain', () => {
  const set = () =>
    ruleSet(`
  - name: blocked
    when: { sender: { in: ["*@spam.example"] } }
    drop: true
  - name: unknown-recipient
    when: { recipient: { notIn: [alice@example.com] } }
    bounce: { type: DoesNotExist }`)

  it.each([
    'postmaster',
    'Postmaster@example.com',
    'postmaster@other.example',
    'no-domain',
    'invite@',
    'Nobody <nobody@example.com>',
    '<nobody@example.com>',
    ' nobody@example.com',
    'nobody@example.com\r\n',
  ])(
    'never bounces %j (RFC 5321 §4.5.1; SES never sends it, SendBounce would refuse it): bounce rules pass it over',
    (recipient) => {
      expect(verdicts(set(), facts(to(recipient)))).toEqual([`${recipient}:accept`])
    },
  )

  it('still applies drop rules to postmaster', () => {
    const message = receivedMessage({
      recipients: ['postmaster@example.com'],
      envelopeSender: 'x@spam.example',
    })
    expect(verdicts(set(), facts(message))).toEqual(['postmaster@example.com:drop:blocked'])
  })
})
