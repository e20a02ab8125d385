import { describe, expect, it } from 'vitest'
import { BOUNCE_WINDOW_MS, type InboundOutcome, makeProcessInbound } from '../../src/app/process-inbound.js'
import type { MessageContent, ReceivedMessage } from '../../src/domain/message.js'
import type { RuleSet } from '../../src/domain/rule-set.js'
import {
  type BounceLedger,
  BounceRejectedError,
  type MessageSource,
  MessageUnavailableError,
  type OnceResult,
  TransientFailureError,
} from '../../src/ports/index.js'
import { attachment, content, header, RECEIVED_AT, receivedMessage, ruleSet } from './support/builders.js'
import { FakeSender } from './support/fake-sender.js'

// ---------------------------------------------------------------------------------------------
// In-memory fakes

class FakeSource implements MessageSource {
  sizeCalls = 0
  readCalls = 0
  readonly signals: AbortSignal[] = []
  constructor(private readonly stored: { size?: number; content?: MessageContent; error?: Error } = {}) {}

  async size(messageId: string, signal: AbortSignal): Promise<number> {
    this.sizeCalls += 1
    this.signals.push(signal)
    if (this.stored.error !== undefined) throw this.stored.error
    if (messageId === '') throw new Error('no id')
    return this.stored.size ?? this.stored.content?.sizeBytes ?? 1000
  }

  async read(_messageId: string, signal: AbortSignal): Promise<MessageContent> {
    this.readCalls += 1
    this.signals.push(signal)
    if (this.stored.error !== undefined) throw this.stored.error
    return this.stored.content ?? content()
  }
}

/** once(): claim, run, keep the result; a throwing run releases the claim. Counts per sender, domain and hour. */
class MemoryLedger implements BounceLedger {
  readonly results = new Map<string, unknown>()
  readonly claims = new Set<string>()
  readonly counts = new Map<string, number>()
  readonly countCalls: { sender: string; at: Date }[] = []
  readonly domainCountCalls: { domain: string; at: Date }[] = []
  onceCalls = 0

  async once<T>(key: string, work: () => Promise<T>): Promise<OnceResult<T>> {
    this.onceCalls += 1
    if (this.results.has(key)) {
      return { kind: 'done', value: JSON.parse(JSON.stringify(this.results.get(key))) as T, replayed: true }
    }
    if (this.claims.has(key)) return { kind: 'in-progress' }
    this.claims.add(key)
    try {
      const value = await work()
      this.results.set(key, value)
      return { kind: 'done', value, replayed: false }
    } finally {
      this.claims.delete(key)
    }
  }

  async countBounceTo(sender: string, at: Date): Promise<number> {
    this.countCalls.push({ sender, at })
    return this.count(`to#${sender}`, at)
  }

  async countBounceToDomain(domain: string, at: Date): Promise<number> {
    this.domainCountCalls.push({ domain, at })
    return this.count(`to-domain#${domain}`, at)
  }

  private count(target: string, at: Date): number {
    const key = `${target}#${at.toISOString().slice(0, 13)}`
    const count = (this.counts.get(key) ?? 0) + 1
    this.counts.set(key, count)
    return count
  }
}

// ---------------------------------------------------------------------------------------------
// Fixtures

const RULES = `
  - name: known
    when: { recipient: { in: [alice@example.com, bob@example.com] } }
    accept: true
  - name: quiet
    when: { recipient: { in: [quiet@example.com] } }
    drop: true
  - name: unknown
    bounce: { type: DoesNotExist }`

const SIZE_RULES = `
  - { name: too-large, when: { size: { over: 1K } }, bounce: { type: MessageTooLarge } }
  - { name: accept-rest, accept: true }`

const CONTENT_RULES = `
  - { name: no-exe, when: { attachment: { filename: ["*.exe"] } }, bounce: { type: ContentRejected } }`

const NOW = new Date(RECEIVED_AT.getTime() + 60_000)
const SIGNAL = new AbortController().signal

interface Harness {
  readonly source: FakeSource
  readonly sender: FakeSender
  readonly ledger: MemoryLedger
  run(message: ReceivedMessage): Promise<InboundOutcome>
}

function harness(
  set: RuleSet,
  options: { source?: FakeSource | null; ledger?: MemoryLedger | null; now?: Date } = {},
): Harness {
  const source = options.source ?? new FakeSource()
  const sender = new FakeSender()
  const ledger = options.ledger ?? new MemoryLedger()
  const process = makeProcessInbound({
    ruleSet: set,
    bounceSender: sender,
    ...(options.source === null ? {} : { messageSource: source }),
    ...(options.ledger === null ? {} : { ledger }),
    now: () => options.now ?? NOW,
  })
  return { source, sender, ledger, run: (message) => process(message, SIGNAL) }
}

const to = (recipients: string[], overrides: Parameters<typeof receivedMessage>[0] = {}) =>
  receivedMessage({ recipients, ...overrides })

// ---------------------------------------------------------------------------------------------

describe('one bounce per message', () => {
  it('sends one SendBounce with every bounced recipient, and continues for the accepted one', async () => {
    const h = harness(ruleSet(RULES))
    const message = to(['ghost@example.com', 'alice@example.com', 'Phantom@Example.com', 'quiet@example.com'])
    const outcome = await h.run(message)

    expect(h.sender.requests).toHaveLength(1)
    const [request] = h.sender.requests
    expect(request?.OriginalMessageId).toBe(message.messageId)
    expect(request?.BouncedRecipientInfoList.map((r) => r.Recipient)).toEqual([
      'ghost@example.com',
      'Phantom@Example.com',
    ])
    expect(outcome).toStrictEqual({
      message,
      decisions: [
        expect.objectContaining({ recipient: 'ghost@example.com', action: 'bounce', rule: 'unknown' }),
        { recipient: 'alice@example.com', action: 'accept', rule: 'known' },
        expect.objectContaining({ recipient: 'Phantom@Example.com', action: 'bounce', rule: 'unknown' }),
        { recipient: 'quiet@example.com', action: 'drop', rule: 'quiet' },
      ],
      disposition: 'CONTINUE',
      decidedDisposition: 'CONTINUE',
      bounce: { kind: 'sent', request, bounceMessageId: 'bounce-1' },
      factsRead: 'event',
      dryRun: false,
    })
    expect(h.sender.signals).toEqual([SIGNAL])
  })

  it('STOP_RULE_SET when no recipient is accepted (bounced and dropped alike)', async () => {
    const h = harness(ruleSet(RULES))
    const outcome = await h.run(to(['ghost@example.com', 'quiet@example.com']))
    expect(outcome.disposition).toBe('STOP_RULE_SET')
    expect(outcome.bounce.kind).toBe('sent')
    expect(h.sender.requests).toHaveLength(1)
  })

  it('STOP_RULE_SET with no bounce when every recipient is dropped', async () => {
    const h = harness(ruleSet(RULES))
    const outcome = await h.run(to(['quiet@example.com']))
    expect(outcome.disposition).toBe('STOP_RULE_SET')
    expect(outcome.bounce).toEqual({ kind: 'none' })
    expect(h.sender.requests).toHaveLength(0)
    expect(h.ledger.onceCalls).toBe(0)
  })

  it('CONTINUE with no bounce when every recipient is accepted', async () => {
    const h = harness(ruleSet(RULES))
    const outcome = await h.run(to(['alice@example.com', 'bob@example.com']))
    expect(outcome.disposition).toBe('CONTINUE')
    expect(outcome.bounce).toEqual({ kind: 'none' })
    expect(h.sender.requests).toHaveLength(0)
  })

  it('a guard drop sends nothing and stops the rule set', async () => {
    const h = harness(ruleSet(RULES))
    const outcome = await h.run(to(['ghost@example.com'], { envelopeSender: '<>' }))
    expect(h.sender.requests).toHaveLength(0)
    expect(outcome.bounce).toEqual({ kind: 'none' })
    expect(outcome.disposition).toBe('STOP_RULE_SET')
    expect(outcome.decisions).toEqual([
      expect.objectContaining({ action: 'drop', guard: 'nullSender', rule: 'unknown' }),
    ])
  })

  it('the request uses the rule set bounce settings', async () => {
    const h = harness(
      ruleSet(RULES, {
        preamble: 'bounceSenderArn: arn:aws:ses:us-east-1:123456789012:identity/example.com',
      }),
    )
    await h.run(to(['ghost@example.com']))
    expect(h.sender.requests[0]).toMatchObject({
      BounceSender: 'mailer-daemon@example.com',
      BounceSenderArn: 'arn:aws:ses:us-east-1:123456789012:identity/example.com',
      MessageDsn: { ReportingMta: 'dns; mx.example.com', ArrivalDate: RECEIVED_AT },
    })
  })
})

describe('dry run', () => {
  const dry = () => ruleSet(RULES, { preamble: 'mode: dry-run' })

  it('never sends, returns CONTINUE and the request it would have sent', async () => {
    const h = harness(dry())
    const message = to(['ghost@example.com', 'quiet@example.com'])
    const outcome = await h.run(message)
    expect(h.sender.requests).toHaveLength(0)
    expect(h.ledger.onceCalls).toBe(0)
    expect(h.ledger.countCalls).toHaveLength(0)
    expect(outcome.dryRun).toBe(true)
    expect(outcome.disposition).toBe('CONTINUE')
    expect(outcome.bounce).toEqual({
      kind: 'dry-run',
      request: {
        OriginalMessageId: message.messageId,
        BounceSender: 'mailer-daemon@example.com',
        MessageDsn: { ReportingMta: 'dns; mx.example.com', ArrivalDate: RECEIVED_AT },
        BouncedRecipientInfoList: [
          {
            Recipient: 'ghost@example.com',
            RecipientDsnFields: {
              Action: 'failed',
              Status: '5.1.1',
              DiagnosticCode: 'smtp; 550 5.1.1 <ghost@example.com>: Recipient address rejected: User unknown',
            },
          },
        ],
      },
    })
  })

  it('returns CONTINUE even when every recipient is dropped, reporting what enforcement would return', async () => {
    const outcome = await harness(dry()).run(to(['quiet@example.com', 'ghost@example.com']))
    expect(outcome.disposition).toBe('CONTINUE')
    expect(outcome.decidedDisposition).toBe('STOP_RULE_SET')
    expect(outcome.bounce.kind).toBe('dry-run')
    const accepted = await harness(dry()).run(to(['alice@example.com', 'ghost@example.com']))
    expect(accepted.decidedDisposition).toBe('CONTINUE')
  })

  it('reports an expired message as dry-run rather than expired (nothing would be sent either way)', async () => {
    const h = harness(dry(), { now: new Date(RECEIVED_AT.getTime() + 2 * BOUNCE_WINDOW_MS) })
    const outcome = await h.run(to(['ghost@example.com']))
    expect(outcome.bounce.kind).toBe('dry-run')
    expect(h.sender.requests).toHaveLength(0)
  })
})

describe('reading only the facts the rules need', () => {
  it('event-only rules never touch the message source', async () => {
    const h = harness(ruleSet(RULES))
    const outcome = await h.run(to(['ghost@example.com', 'alice@example.com']))
    expect(h.source.sizeCalls).toBe(0)
    expect(h.source.readCalls).toBe(0)
    expect(outcome.factsRead).toBe('event')
  })

  it('size rules ask for the size, never the content', async () => {
    const h = harness(ruleSet(SIZE_RULES), { source: new FakeSource({ size: 1025 }) })
    const outcome = await h.run(to(['alice@example.com']))
    expect(h.source.sizeCalls).toBe(1)
    expect(h.source.readCalls).toBe(0)
    expect(h.source.signals).toEqual([SIGNAL])
    expect(outcome.factsRead).toBe('size')
    expect(outcome.decisions).toEqual([expect.objectContaining({ action: 'bounce', rule: 'too-large' })])
    expect(h.sender.requests[0]?.BouncedRecipientInfoList[0]?.RecipientDsnFields.Status).toBe('5.3.4')
  })

  it('a message at the limit is not over it', async () => {
    const h = harness(ruleSet(SIZE_RULES), { source: new FakeSource({ size: 1024 }) })
    const outcome = await h.run(to(['alice@example.com']))
    expect(outcome.decisions).toEqual([
      { recipient: 'alice@example.com', action: 'accept', rule: 'accept-rest' },
    ])
    expect(h.sender.requests).toHaveLength(0)
  })

  it('content rules read the message once, without a separate size call', async () => {
    const stored = content({ attachments: [attachment('Setup.EXE', 'application/octet-stream')] })
    const h = harness(ruleSet(CONTENT_RULES), { source: new FakeSource({ content: stored }) })
    const outcome = await h.run(to(['alice@example.com']))
    expect(h.source.readCalls).toBe(1)
    expect(h.source.sizeCalls).toBe(0)
    expect(outcome.factsRead).toBe('content')
    expect(outcome.bounce.kind).toBe('sent')
  })

  it('a size rule then a content rule: size first, then the content', async () => {
    const set = ruleSet(`
  - { name: small-ok, when: { size: { over: 10K } }, drop: true }
  - { name: no-exe, when: { attachment: { filename: ["*.exe"] } }, bounce: { type: ContentRejected } }`)
    const h = harness(set, { source: new FakeSource({ size: 500, content: content({ sizeBytes: 500 }) }) })
    const outcome = await h.run(to(['alice@example.com']))
    expect([h.source.sizeCalls, h.source.readCalls]).toEqual([1, 1])
    expect(outcome.factsRead).toBe('content')
    expect(outcome.decisions).toEqual([{ recipient: 'alice@example.com', action: 'accept' }])
  })

  it('a failing cheap condition means no fetch', async () => {
    const set = ruleSet(`
  - { name: big-from-spam, when: { sender: { in: ["*@spam.example"] }, size: { over: 1K } }, drop: true }`)
    const h = harness(set)
    const outcome = await h.run(to(['alice@example.com']))
    expect(h.source.sizeCalls + h.source.readCalls).toBe(0)
    expect(outcome.factsRead).toBe('event')
  })

  it('truncated headers: the guard reads the content before bouncing', async () => {
    const stored = content({
      headers: [header('Auto-Submitted', 'auto-replied'), header('Content-Type', 'text/plain')],
    })
    const h = harness(ruleSet(RULES), { source: new FakeSource({ content: stored }) })
    const outcome = await h.run(to(['ghost@example.com'], { headersTruncated: true, headers: [] }))
    expect(h.source.readCalls).toBe(1)
    expect(outcome.factsRead).toBe('content')
    expect(outcome.decisions).toEqual([expect.objectContaining({ action: 'drop', guard: 'autoSubmitted' })])
    expect(h.sender.requests).toHaveLength(0)
  })
})

describe('fail open when the message cannot be read', () => {
  it('an unreadable message: no bounce, CONTINUE, the error reported', async () => {
    const missing = new MessageUnavailableError('NoSuchKey: the object is gone')
    const h = harness(ruleSet(SIZE_RULES), { source: new FakeSource({ error: missing }) })
    const message = to(['alice@example.com'])
    const outcome = await h.run(message)
    expect(outcome).toStrictEqual({
      message,
      decisions: [],
      disposition: 'CONTINUE',
      decidedDisposition: 'CONTINUE',
      bounce: { kind: 'none' },
      factsRead: 'event',
      dryRun: false,
      unreadable: missing,
    })
    expect(h.sender.requests).toHaveLength(0)
    expect(h.ledger.onceCalls).toBe(0)
  })

  it('an unreadable message on an Event invocation is not retried either', async () => {
    const h = harness(ruleSet(CONTENT_RULES), {
      source: new FakeSource({ error: new MessageUnavailableError('AccessDenied') }),
    })
    const outcome = await h.run(to(['alice@example.com'], { invocationType: 'Event' }))
    expect(outcome.unreadable?.message).toBe('AccessDenied')
    expect(outcome.disposition).toBe('CONTINUE')
  })

  it('no message store configured: unreadable, naming the missing setting', async () => {
    const h = harness(ruleSet(SIZE_RULES), { source: null })
    const outcome = await h.run(to(['alice@example.com']))
    expect(outcome.unreadable).toBeInstanceOf(MessageUnavailableError)
    expect(outcome.unreadable?.message).toBe('no message store is configured (MAIL_BUCKET or MAIL_DIR)')
    expect(outcome.disposition).toBe('CONTINUE')
    expect(h.sender.requests).toHaveLength(0)
  })

  it('a transient read failure on RequestResponse is unreadable, with the cause kept', async () => {
    const transient = new TransientFailureError('S3 kept throttling')
    const h = harness(ruleSet(SIZE_RULES), { source: new FakeSource({ error: transient }) })
    const outcome = await h.run(to(['alice@example.com']))
    expect(outcome.unreadable).toBeInstanceOf(MessageUnavailableError)
    expect(outcome.unreadable?.message).toBe('S3 kept throttling')
    expect(outcome.unreadable?.cause).toBe(transient)
    expect(outcome.disposition).toBe('CONTINUE')
  })

  it('a transient read failure on an Event invocation is rethrown for Lambda to retry', async () => {
    const transient = new TransientFailureError('S3 kept throttling')
    const h = harness(ruleSet(SIZE_RULES), { source: new FakeSource({ error: transient }) })
    await expect(h.run(to(['alice@example.com'], { invocationType: 'Event' }))).rejects.toBe(transient)
    expect(h.sender.requests).toHaveLength(0)
  })

  it('an unexpected error from the source is not swallowed', async () => {
    const bug = new TypeError('bug')
    const h = harness(ruleSet(SIZE_RULES), { source: new FakeSource({ error: bug }) })
    await expect(h.run(to(['alice@example.com']))).rejects.toBe(bug)
  })
})

describe('sending failures', () => {
  it('TransientFailureError on an Event invocation is rethrown, and the claim released for the retry', async () => {
    const h = harness(ruleSet(RULES))
    const transient = new TransientFailureError('SES throttled')
    h.sender.failures = [transient]
    const message = to(['ghost@example.com'], { invocationType: 'Event' })
    await expect(h.run(message)).rejects.toBe(transient)
    expect(h.ledger.claims.size).toBe(0)
    expect(h.ledger.results.size).toBe(0)
    // Lambda's retry sends it.
    const retry = await h.run(message)
    expect(retry.bounce).toMatchObject({ kind: 'sent', bounceMessageId: 'bounce-2' })
    expect(h.sender.requests).toHaveLength(2)
  })

  it('TransientFailureError on RequestResponse: CONTINUE, bounce failed', async () => {
    const h = harness(ruleSet(RULES))
    const transient = new TransientFailureError('SES throttled')
    h.sender.failures = [transient]
    const outcome = await h.run(to(['ghost@example.com']))
    expect(outcome.disposition).toBe('CONTINUE')
    expect(outcome.bounce).toEqual({ kind: 'failed', request: h.sender.requests[0], error: transient })
  })

  it.each(['RequestResponse', 'Event'] as const)(
    'BounceRejectedError (%s): CONTINUE, bounce failed, not retried',
    async (invocationType) => {
      const h = harness(ruleSet(RULES))
      const rejected = new BounceRejectedError('MessageRejected: Email address is not verified')
      h.sender.failures = [rejected]
      const outcome = await h.run(to(['ghost@example.com'], { invocationType }))
      expect(outcome.disposition).toBe('CONTINUE')
      expect(outcome.bounce).toEqual({ kind: 'failed', request: h.sender.requests[0], error: rejected })
      expect(outcome.decisions).toEqual([expect.objectContaining({ action: 'bounce' })])
    },
  )

  it('an unexpected error from the sender is not swallowed', async () => {
    const h = harness(ruleSet(RULES))
    const bug = new RangeError('bug')
    h.sender.failures = [bug]
    await expect(h.run(to(['ghost@example.com']))).rejects.toBe(bug)
  })
})

describe('the 24-hour SendBounce window', () => {
  it('a message older than 24 h is not bounced: expired, CONTINUE', async () => {
    const h = harness(ruleSet(RULES), { now: new Date(RECEIVED_AT.getTime() + BOUNCE_WINDOW_MS + 1) })
    const outcome = await h.run(to(['ghost@example.com']))
    expect(BOUNCE_WINDOW_MS).toBe(86_400_000)
    expect(h.sender.requests).toHaveLength(0)
    expect(h.ledger.onceCalls).toBe(0)
    expect(outcome.bounce).toEqual({
      kind: 'expired',
      request: expect.objectContaining({ OriginalMessageId: outcome.message.messageId }),
    })
    expect(outcome.disposition).toBe('CONTINUE')
    expect(outcome.decidedDisposition).toBe('STOP_RULE_SET')
  })

  it('a message exactly 24 h old is still bounced', async () => {
    const h = harness(ruleSet(RULES), { now: new Date(RECEIVED_AT.getTime() + BOUNCE_WINDOW_MS) })
    const outcome = await h.run(to(['ghost@example.com']))
    expect(outcome.bounce.kind).toBe('sent')
    expect(outcome.disposition).toBe('STOP_RULE_SET')
  })
})

describe('exactly once', () => {
  it('a replayed ledger result reports duplicate and does not send again', async () => {
    const h = harness(ruleSet(RULES))
    const message = to(['ghost@example.com'])
    const first = await h.run(message)
    const second = await h.run(message)
    expect(first.bounce).toMatchObject({ kind: 'sent', bounceMessageId: 'bounce-1' })
    expect(second.bounce).toEqual({ kind: 'duplicate', bounceMessageId: 'bounce-1' })
    expect(second.disposition).toBe('STOP_RULE_SET')
    expect(h.sender.requests).toHaveLength(1)
    expect(h.ledger.countCalls).toHaveLength(1)
  })

  it('claims the SES message id', async () => {
    const h = harness(ruleSet(RULES))
    await h.run(to(['ghost@example.com'], { messageId: 'abc123' }))
    expect([...h.ledger.results.keys()]).toEqual(['bounce#abc123'])
  })

  it('a claim held elsewhere: in-progress, nothing sent', async () => {
    const ledger = new MemoryLedger()
    ledger.claims.add('bounce#held')
    const h = harness(ruleSet(RULES), { ledger })
    const outcome = await h.run(to(['ghost@example.com', 'alice@example.com'], { messageId: 'held' }))
    expect(outcome.bounce).toEqual({ kind: 'in-progress' })
    expect(outcome.disposition).toBe('CONTINUE')
    expect(h.sender.requests).toHaveLength(0)
  })

  it('a failed send releases the claim so a later invocation can send', async () => {
    const h = harness(ruleSet(RULES))
    h.sender.failures = [new BounceRejectedError('MessageRejected')]
    const message = to(['ghost@example.com'])
    expect((await h.run(message)).bounce.kind).toBe('failed')
    expect((await h.run(message)).bounce.kind).toBe('sent')
    expect(h.sender.requests).toHaveLength(2)
  })

  it('without a ledger every invocation sends (exactly-once is off)', async () => {
    const h = harness(ruleSet(RULES), { ledger: null })
    const message = to(['ghost@example.com'])
    await h.run(message)
    await h.run(message)
    expect(h.sender.requests).toHaveLength(2)
  })
})

describe('the rate guard (maxBouncesPerSender)', () => {
  const limited = () => ruleSet(RULES, { preamble: 'safety: { maxBouncesPerSender: 2 }' })
  const from = (envelopeSender: string, n: number) =>
    to(['ghost@example.com', 'quiet@example.com'], { envelopeSender, messageId: `m${n}` })

  it('turns bounces into drops with guard rate once the limit is passed', async () => {
    const h = harness(limited())
    const outcomes: InboundOutcome[] = []
    for (let n = 1; n <= 4; n += 1) outcomes.push(await h.run(from('spammy@sender.example', n)))
    expect(outcomes.map((o) => o.bounce.kind)).toEqual(['sent', 'sent', 'rate-limited', 'rate-limited'])
    expect(outcomes[2]?.bounce).toEqual({ kind: 'rate-limited', guard: 'rate', bouncesThisHour: 3 })
    expect(outcomes[2]?.decisions).toEqual([
      {
        recipient: 'ghost@example.com',
        action: 'drop',
        rule: 'unknown',
        bounce: { type: 'DoesNotExist', status: '5.1.1', diagnostic: expect.any(String) },
        guard: 'rate',
      },
      { recipient: 'quiet@example.com', action: 'drop', rule: 'quiet' },
    ])
    expect(outcomes[2]?.disposition).toBe('STOP_RULE_SET')
    expect(h.sender.requests).toHaveLength(2)
    expect(h.ledger.countCalls.map((call) => call.at)).toEqual([NOW, NOW, NOW, NOW])
  })

  it('keeps accepted recipients accepted and continues', async () => {
    const h = harness(limited())
    for (let n = 1; n <= 2; n += 1) await h.run(from('a@sender.example', n))
    const outcome = await h.run(
      to(['ghost@example.com', 'alice@example.com'], { envelopeSender: 'a@sender.example' }),
    )
    expect(outcome.bounce.kind).toBe('rate-limited')
    expect(outcome.decisions[1]).toEqual({ recipient: 'alice@example.com', action: 'accept', rule: 'known' })
    expect(outcome.disposition).toBe('CONTINUE')
  })

  it('counts each sender on its own', async () => {
    const h = harness(limited())
    for (let n = 1; n <= 2; n += 1) await h.run(from('a@sender.example', n))
    expect((await h.run(from('b@sender.example', 3))).bounce.kind).toBe('sent')
  })

  it('counts one mailbox however its address is spelt (case, +tag, BATV signature)', async () => {
    const h = harness(limited())
    await h.run(from('prvs=0123456789=Bob@Sender.example', 1))
    await h.run(from('prvs=9876543210=bob@sender.example', 2))
    const third = await h.run(from('bob+x@SENDER.example', 3))
    expect(third.bounce).toEqual({ kind: 'rate-limited', guard: 'rate', bouncesThisHour: 3 })
    expect(h.ledger.countCalls.map((call) => call.sender)).toEqual([
      'bob@sender.example',
      'bob@sender.example',
      'bob@sender.example',
    ])
  })

  it('counts every spelling of one mailbox once: quoting, escapes, IDNA, address literals', async () => {
    const h = harness(
      ruleSet(RULES, { preamble: 'safety: { maxBouncesPerSender: 3, maxBouncesPerSenderDomain: 100 }' }),
    )
    const spellings = [
      '"victim"@bücher.example',
      '"vic\\tim"@xn--bcher-kva.example',
      'Victim@BÜCHER.example.',
    ]
    for (const [n, sender] of spellings.entries()) await h.run(from(sender, n))
    expect(h.ledger.countCalls.map((call) => call.sender)).toEqual([
      'victim@xn--bcher-kva.example',
      'victim@xn--bcher-kva.example',
      'victim@xn--bcher-kva.example',
    ])
    expect((await h.run(from('victim@xn--bcher-kva.example', 9))).bounce).toMatchObject({
      kind: 'rate-limited',
      guard: 'rate',
    })
    await h.run(from('victim@[142.250.000.001]', 10))
    await h.run(from('victim@[142.250.0.1]', 11))
    expect(h.ledger.countCalls.slice(-2).map((call) => call.sender)).toEqual([
      'victim@[142.250.0.1]',
      'victim@[142.250.0.1]',
    ])
  })

  it('a replayed rate-limited result stays rate-limited', async () => {
    const h = harness(limited())
    for (let n = 1; n <= 3; n += 1) await h.run(from('a@sender.example', n))
    const replay = await h.run(from('a@sender.example', 3))
    expect(replay.bounce).toEqual({ kind: 'rate-limited', guard: 'rate', bouncesThisHour: 3 })
    expect(replay.decisions[0]).toMatchObject({ action: 'drop', guard: 'rate' })
    expect(h.sender.requests).toHaveLength(2)
  })

  it('the default limit is 10 per hour', async () => {
    const h = harness(ruleSet(RULES))
    const kinds: string[] = []
    for (let n = 1; n <= 11; n += 1) kinds.push((await h.run(from('a@sender.example', n))).bounce.kind)
    expect(kinds.filter((kind) => kind === 'sent')).toHaveLength(10)
    expect(kinds[10]).toBe('rate-limited')
  })

  it('is off without a ledger', async () => {
    const h = harness(limited(), { ledger: null })
    for (let n = 1; n <= 4; n += 1) await h.run(from('a@sender.example', n))
    expect(h.sender.requests).toHaveLength(4)
  })
})

describe('the domain rate guard (maxBouncesPerSenderDomain)', () => {
  const limited = () => ruleSet(RULES, { preamble: 'safety: { maxBouncesPerSenderDomain: 3 }' })
  const from = (envelopeSender: string, n: number) =>
    to(['ghost@example.com'], { envelopeSender, messageId: `d${n}` })

  it('many mailboxes of one domain share its hourly limit: beyond it, drops with guard domainRate', async () => {
    const h = harness(limited())
    const outcomes: InboundOutcome[] = []
    for (let n = 1; n <= 5; n += 1) outcomes.push(await h.run(from(`user${n}@victim.example`, n)))
    expect(outcomes.map((o) => o.bounce.kind)).toEqual([
      'sent',
      'sent',
      'sent',
      'rate-limited',
      'rate-limited',
    ])
    expect(outcomes[3]?.bounce).toEqual({ kind: 'rate-limited', guard: 'domainRate', bouncesThisHour: 4 })
    expect(outcomes[3]?.decisions[0]).toMatchObject({ action: 'drop', guard: 'domainRate' })
    expect(h.ledger.domainCountCalls.map((call) => call.domain)).toEqual(Array(5).fill('victim.example'))
    expect(h.sender.requests).toHaveLength(3)
    // Another domain has its own allowance.
    expect((await h.run(from('user@other.example', 6))).bounce.kind).toBe('sent')
  })

  it('counts the domain in its ASCII form: the Unicode and the A-label spelling are one domain', async () => {
    const h = harness(limited())
    await h.run(from('a@bücher.example', 1))
    await h.run(from('b@XN--BCHER-KVA.example', 2))
    expect(h.ledger.domainCountCalls.map((call) => call.domain)).toEqual([
      'xn--bcher-kva.example',
      'xn--bcher-kva.example',
    ])
  })

  it('the mailbox limit is named first when both are passed', async () => {
    const h = harness(
      ruleSet(RULES, { preamble: 'safety: { maxBouncesPerSender: 1, maxBouncesPerSenderDomain: 1 }' }),
    )
    await h.run(from('a@victim.example', 1))
    expect((await h.run(from('a@victim.example', 2))).bounce).toMatchObject({ guard: 'rate' })
  })

  it('defaults to 50 per hour', async () => {
    const h = harness(ruleSet(RULES))
    const kinds: string[] = []
    for (let n = 1; n <= 51; n += 1) kinds.push((await h.run(from(`u${n}@victim.example`, n))).bounce.kind)
    expect(kinds.filter((kind) => kind === 'sent')).toHaveLength(50)
    expect(kinds[50]).toBe('rate-limited')
  })
})
