import { describe, expect, it } from 'vitest'
import { decide } from '../../src/domain/decide.js'
import type { RecipientDecision } from '../../src/domain/decision.js'
import type { MessageFacts } from '../../src/domain/message.js'
import type { RuleSet } from '../../src/domain/rule-set.js'
import { attachment, content, facts, header, receivedMessage, ruleSet } from './support/builders.js'

function explained(ruleSet: RuleSet, f: MessageFacts): readonly RecipientDecision[] {
  const outcome = decide(ruleSet.rules, ruleSet.safety, f, ruleSet.onUnreadable, true)
  if (outcome.kind !== 'decided') throw new Error(`expected a decision, got needs ${outcome.facts}`)
  return outcome.decisions
}

describe('decide: evidence, only when asked', () => {
  it('adds nothing to a decision unless asked to explain', () => {
    const set = ruleSet(`
  - name: unknown
    when: { recipient: { notIn: [alice@example.com] } }
    bounce: { type: DoesNotExist }`)
    const outcome = decide(set.rules, set.safety, facts(receivedMessage({ recipients: ['x@example.com'] })))
    expect(outcome.kind === 'decided' && outcome.decisions[0]).not.toHaveProperty('evidence')
  })

  it('names the list file and the entry an address matched, or the list it is missing from', () => {
    const set = ruleSet(
      `
  - name: blocked
    when: { sender: { inFile: blocked.txt } }
    drop: true
  - name: unknown
    when: { recipient: { notInFile: mailboxes.txt } }
    bounce: { type: DoesNotExist }`,
      { lists: { 'blocked.txt': '# spam\n*@*.bulk.example\n', 'mailboxes.txt': 'alice@example.com\n' } },
    )
    const [blocked] = explained(set, facts(receivedMessage({ envelopeSender: 'Offers+x@News.Bulk.Example' })))
    expect(blocked?.evidence).toEqual([
      {
        kind: 'address',
        field: 'sender',
        addresses: ['Offers+x@News.Bulk.Example'],
        negate: false,
        entry: '*@*.bulk.example',
        list: 'blocked.txt',
      },
    ])
    const [unknown] = explained(set, facts(receivedMessage({ recipients: ['ghost@example.com'] })))
    expect(unknown?.evidence).toEqual([
      {
        kind: 'address',
        field: 'recipient',
        addresses: ['ghost@example.com'],
        negate: true,
        list: 'mailboxes.txt',
      },
    ])
  })

  it('shows the attachment name as decoded and the glob it met, and the size against the limit', () => {
    const set = ruleSet(`
  - name: big
    when: { size: { over: 1K } }
    bounce: { type: MessageTooLarge }
  - name: no-exe
    when: { attachment: { filename: ["*.pdf", "*.exe"], contentType: ["application/*"] } }
    bounce: { type: ContentRejected }`)
    const withExe = content({
      sizeBytes: 900,
      attachments: [
        attachment('notes.txt', 'text/plain'),
        attachment('Rechnung €.exe', 'application/x-msdownload'),
      ],
    })
    const [decision] = explained(set, facts(receivedMessage(), { content: withExe }))
    expect(decision?.rule).toBe('no-exe')
    expect(decision?.evidence).toEqual([
      {
        kind: 'attachment',
        filename: 'Rechnung €.exe',
        contentType: 'application/x-msdownload',
        filenameGlob: '*.exe',
        contentTypeGlob: 'application/*',
      },
    ])
    const [big] = explained(set, facts(receivedMessage(), { content: content({ sizeBytes: 5000 }) }))
    expect(big?.evidence).toEqual([{ kind: 'size', sizeBytes: 5000, overBytes: 1024 }])
  })

  it('shows the header value and the part of it that matched (`matches`: the value it saw)', () => {
    const set = ruleSet(`
  - name: prize
    when: { header: { name: Subject, contains: FREE } }
    drop: true
  - name: invoice
    when: { header: { name: X-Mailer, matches: "/mass ?mail(er)?/i" } }
    drop: true`)
    const subject = receivedMessage({
      headers: [header('Subject', 'hello'), header('Subject', 'Win a free cruise')],
    })
    expect(explained(set, facts(subject))[0]?.evidence).toEqual([
      { kind: 'header', name: 'subject', test: 'contains', value: 'Win a free cruise', span: [6, 10] },
    ])
    const mailer = receivedMessage({ headers: [header('X-Mailer', 'Acme MassMailer 3')] })
    expect(explained(set, facts(mailer))[0]?.evidence).toEqual([
      { kind: 'header', name: 'x-mailer', test: 'matches', value: 'Acme MassMailer 3' },
    ])
  })

  it('gives one entry per condition, verdicts and the From address included', () => {
    const set = ruleSet(`
  - name: partners
    when: { from: { in: ["*@partner.example"] }, verdict: { dmarc: PASS } }
    accept: true`)
    const message = receivedMessage({ fromAddresses: ['x@elsewhere.example', 'Sam@Partner.Example'] })
    expect(explained(set, facts(message))[0]?.evidence).toEqual([
      {
        kind: 'address',
        field: 'from',
        addresses: ['Sam@Partner.Example'],
        negate: false,
        entry: '*@partner.example',
      },
      { kind: 'verdict', verdict: 'dmarc', status: 'PASS' },
    ])
  })

  it('keeps the evidence when a safety guard turns the bounce into a drop', () => {
    const set = ruleSet(`
  - name: unknown
    when: { recipient: { notIn: [alice@example.com] } }
    bounce: { type: DoesNotExist }`)
    const [decision] = explained(
      set,
      facts(receivedMessage({ recipients: ['x@example.com'], verdicts: { spam: 'FAIL' } })),
    )
    expect(decision).toMatchObject({ action: 'drop', guard: 'spam', evidence: [{ kind: 'address' }] })
  })
})
