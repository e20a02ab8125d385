import { describe, expect, it } from 'vitest'
import { decodeQueuedBounce, encodeQueuedBounce } from '../../src/adapters/queued-bounce-message.js'
import { BOUNCE_WINDOW_MS, makeProcessInbound } from '../../src/app/process-inbound.js'
import { makeSendQueuedBounce } from '../../src/app/send-queued-bounce.js'
import { buildBounceRequest, type SendBounceRequest } from '../../src/domain/bounce-request.js'
import { bounceSpec } from '../../src/domain/bounce-spec.js'
import type { ReceivedMessage } from '../../src/domain/message.js'
import type { QueuedBounce } from '../../src/domain/queued-bounce.js'
import {
  BounceRejectedError,
  BounceThrottledError,
  type PaceHold,
  type SendPace,
  TransientFailureError,
} from '../../src/ports/index.js'
import { RECEIVED_AT, receivedMessage, ruleSetFromYaml, rulesYaml } from './support/builders.js'
import { FakeSender } from './support/fake-sender.js'
import { InMemoryLedger } from './support/memory-ledger.js'

const RULES = rulesYaml(`
  - name: known
    when: { recipient: { in: [alice@example.com] } }
    accept: true
  - name: unknown
    bounce: { type: DoesNotExist }`)

const NOW = new Date(RECEIVED_AT.getTime() + 60_000)
const SIGNAL = new AbortController().signal
const message = (overrides: Parameters<typeof receivedMessage>[0] = {}): ReceivedMessage =>
  receivedMessage({ recipients: ['ghost@example.com'], ...overrides })

class RecordingQueue {
  readonly queued: QueuedBounce[] = []
  failures: Error[] = []
  async enqueue(bounce: QueuedBounce): Promise<string> {
    const failure = this.failures.shift()
    if (failure !== undefined) throw failure
    this.queued.push(bounce)
    return `sqs-${this.queued.length}`
  }
}

/** A pace that is always free; records its holds and how they were released. */
class RecordingPace implements SendPace {
  readonly releases: string[] = []
  acquired = 0
  sendBy = NOW.getTime() + 8_000
  failure: Error | undefined
  async acquire(): Promise<PaceHold> {
    if (this.failure !== undefined) throw this.failure
    this.acquired += 1
    return {
      sendBy: this.sendBy,
      release: async (outcome) => {
        this.releases.push(outcome)
      },
    }
  }
}

// ------------------------------------------------------------------------------ the receipt side

function receipt(options: { dryRun?: boolean; now?: Date; ledger?: InMemoryLedger | null } = {}) {
  const queue = new RecordingQueue()
  const sender = new FakeSender()
  const ledger = options.ledger === undefined ? new InMemoryLedger() : options.ledger
  const ruleSet = ruleSetFromYaml(RULES, options.dryRun ? { env: { DRY_RUN: 'true' } } : {})
  const processInbound = makeProcessInbound({
    ruleSet,
    bounceSender: sender,
    bounceQueue: queue,
    ...(ledger === null ? {} : { ledger }),
    now: () => options.now ?? NOW,
  })
  return { queue, sender, ledger, ruleSet, run: (m: ReceivedMessage) => processInbound(m, SIGNAL) }
}

describe('the receipt function with a bounce queue', () => {
  it('queues the exact SendBounce request instead of calling SES, and stops the rule set', async () => {
    const r = receipt()
    const m = message({ envelopeSender: 'Jordan@Northwind.example' })
    const outcome = await r.run(m)

    expect(r.sender.requests).toEqual([])
    const expected = buildBounceRequest(m, outcome.decisions, r.ruleSet.bounce)
    expect(r.queue.queued).toEqual([
      {
        request: expected,
        receivedAt: RECEIVED_AT,
        queuedAt: NOW,
        envelopeSender: 'Jordan@Northwind.example',
      },
    ])
    expect(outcome.bounce).toEqual({ kind: 'queued', request: expected, queueMessageId: 'sqs-1' })
    expect(outcome.disposition).toBe('STOP_RULE_SET')
  })

  it('continues for an accepted recipient while the bounce for the others is queued', async () => {
    const r = receipt()
    const outcome = await r.run(message({ recipients: ['ghost@example.com', 'alice@example.com'] }))
    expect(outcome.bounce.kind).toBe('queued')
    expect(outcome.disposition).toBe('CONTINUE')
  })

  it('queues once per message: a duplicate event finds the claim', async () => {
    const r = receipt()
    await r.run(message())
    const again = await r.run(message())
    expect(again.bounce).toEqual({ kind: 'duplicate' })
    expect(again.disposition).toBe('STOP_RULE_SET')
    expect(r.queue.queued).toHaveLength(1)
  })

  it('fails open when the queue cannot be written: no bounce, CONTINUE, the claim released', async () => {
    const r = receipt()
    const failure = new TransientFailureError('SendMessage: QueueDoesNotExist')
    r.queue.failures = [failure]
    const outcome = await r.run(message())
    expect(outcome.bounce).toEqual({ kind: 'failed', request: expect.any(Object), error: failure })
    expect(outcome.disposition).toBe('CONTINUE')
    expect(r.ledger?.entries.size).toBe(0)
    // A retried event can still queue it.
    expect((await r.run(message())).bounce.kind).toBe('queued')
  })

  it('rethrows a queue failure on an Event invocation for Lambda to retry', async () => {
    const r = receipt()
    r.queue.failures = [new TransientFailureError('SendMessage: throttled')]
    await expect(r.run(message({ invocationType: 'Event' }))).rejects.toThrow('SendMessage: throttled')
    expect(r.ledger?.entries.size).toBe(0)
  })

  it('keeps the per-sender limit at decision time: beyond it, drops instead of queueing', async () => {
    const r = receipt()
    const limit = r.ruleSet.safety.maxBouncesPerSender
    for (let i = 0; i < limit; i++) await r.run(message({ messageId: `m${i}` }))
    const over = await r.run(message({ messageId: 'over' }))
    expect(r.queue.queued).toHaveLength(limit)
    expect(over.bounce).toEqual({ kind: 'rate-limited', guard: 'rate', bouncesThisHour: limit + 1 })
    expect(over.decisions).toEqual([expect.objectContaining({ action: 'drop', guard: 'rate' })])
  })

  it('queues nothing in dry run, and nothing for a message past the 24 hours', async () => {
    const dry = receipt({ dryRun: true })
    expect((await dry.run(message())).bounce.kind).toBe('dry-run')
    const late = receipt({ now: new Date(RECEIVED_AT.getTime() + BOUNCE_WINDOW_MS + 1) })
    expect((await late.run(message())).bounce.kind).toBe('expired')
    expect([...dry.queue.queued, ...late.queue.queued]).toEqual([])
  })

  it('queues without a ledger too (exactly-once off)', async () => {
    const r = receipt({ ledger: null })
    await r.run(message())
    await r.run(message())
    expect(r.queue.queued).toHaveLength(2)
  })
})

// ------------------------------------------------------------------------------ the sender

const queued = (overrides: Partial<QueuedBounce> = {}): QueuedBounce => {
  const m = message()
  const request = buildBounceRequest(
    m,
    [
      {
        recipient: 'ghost@example.com',
        action: 'bounce',
        rule: 'unknown',
        bounce: bounceSpec({ type: 'DoesNotExist' }),
      },
    ],
    { bounceSender: 'mailer-daemon@example.com', reportingMta: 'mx.example.com' },
  ) as SendBounceRequest
  return {
    request,
    receivedAt: RECEIVED_AT,
    queuedAt: RECEIVED_AT,
    envelopeSender: m.envelopeSender,
    ...overrides,
  }
}

function sender(options: { dryRun?: boolean; ledger?: InMemoryLedger | null; now?: Date } = {}) {
  const ses = new FakeSender()
  const pace = new RecordingPace()
  const ledger = options.ledger === undefined ? new InMemoryLedger() : options.ledger
  const send = makeSendQueuedBounce({
    bounceSender: ses,
    pace,
    ...(ledger === null ? {} : { ledger }),
    dryRun: options.dryRun ?? false,
    now: () => options.now ?? NOW,
  })
  return { ses, pace, ledger, run: (bounce: QueuedBounce, signal = SIGNAL) => send(bounce, signal) }
}

describe('the sender: one queued bounce', () => {
  it('sends the queued request once, in a slot of the pace, claimed under the SES message id', async () => {
    const s = sender()
    const bounce = queued()
    expect(await s.run(bounce)).toEqual({ kind: 'sent', bounceMessageId: 'bounce-1' })
    expect(s.ses.requests).toEqual([bounce.request])
    expect(s.pace.acquired).toBe(1)
    expect(s.pace.releases).toEqual(['sent'])
    expect([...(s.ledger?.entries.keys() ?? [])]).toEqual([`bounce-sent#${bounce.request.OriginalMessageId}`])
  })

  it('sends nothing for a redelivery or a second copy: duplicate, without taking a slot', async () => {
    const s = sender()
    await s.run(queued())
    expect(await s.run(queued({ queuedAt: NOW }))).toEqual({
      kind: 'duplicate',
      earlier: 'sent',
      bounceMessageId: 'bounce-1',
    })
    expect(s.ses.requests).toHaveLength(1)
    expect(s.pace.acquired).toBe(1)
  })

  it('leaves a bounce whose claim another instance holds for a later delivery', async () => {
    const s = sender()
    s.ledger?.hold(`bounce-sent#${queued().request.OriginalMessageId}`)
    expect(await s.run(queued())).toEqual({ kind: 'retry', reason: 'in-progress' })
    expect(s.pace.acquired).toBe(0)
  })

  it('MessageRejected is final: kept as the outcome, never sent again', async () => {
    const s = sender()
    s.ses.failures = [new BounceRejectedError('SendBounce for x: MessageRejected (HTTP 400): not verified')]
    expect(await s.run(queued())).toEqual({
      kind: 'rejected',
      reason: 'SendBounce for x: MessageRejected (HTTP 400): not verified',
    })
    expect(await s.run(queued())).toEqual({ kind: 'duplicate', earlier: 'rejected' })
    expect(s.ses.requests).toHaveLength(1)
    expect(s.pace.releases).toEqual(['sent'])
  })

  it('throttled: retried later, the claim released, the slot given back with the long pause', async () => {
    const s = sender()
    const throttled = new BounceThrottledError('SendBounce for x: Throttling')
    s.ses.failures = [throttled]
    expect(await s.run(queued())).toEqual({ kind: 'retry', reason: 'throttled', error: throttled })
    expect(s.pace.releases).toEqual(['throttled'])
    expect(s.ledger?.entries.size).toBe(0)
    expect((await s.run(queued())).kind).toBe('sent')
  })

  it('a transient fault: retried later, the claim released', async () => {
    const s = sender()
    const fault = new TransientFailureError('SendBounce for x: ServiceUnavailable (HTTP 503)')
    s.ses.failures = [fault]
    expect(await s.run(queued())).toEqual({ kind: 'retry', reason: 'transient', error: fault })
    expect(s.pace.releases).toEqual(['sent'])
    expect(s.ledger?.entries.size).toBe(0)
  })

  it('no slot before the deadline: retried later, nothing sent, the claim released', async () => {
    const s = sender()
    s.pace.failure = new TransientFailureError('no SendBounce slot came free before the deadline')
    expect(await s.run(queued())).toMatchObject({ kind: 'retry', reason: 'transient' })
    expect(s.ses.requests).toEqual([])
    expect(s.ledger?.entries.size).toBe(0)
  })

  it('a bug is not swallowed, and releases the claim', async () => {
    const s = sender()
    s.ses.failures = [new RangeError('bug')]
    await expect(s.run(queued())).rejects.toThrow(RangeError)
    expect(s.ledger?.entries.size).toBe(0)
  })

  it('past the 24 hours when its turn comes: expired, no slot taken, nothing sent', async () => {
    const s = sender({ now: new Date(RECEIVED_AT.getTime() + BOUNCE_WINDOW_MS + 1) })
    expect(await s.run(queued())).toEqual({ kind: 'expired' })
    expect(s.pace.acquired).toBe(0)
    expect(s.ses.requests).toEqual([])
    const onTime = sender({ now: new Date(RECEIVED_AT.getTime() + BOUNCE_WINDOW_MS) })
    expect((await onTime.run(queued())).kind).toBe('sent')
  })

  it('bounds the call by the invocation’s deadline and by the slot’s sendBy', async () => {
    const s = sender({ ledger: null })
    const deadline = new AbortController()
    await s.run(queued(), deadline.signal)
    s.pace.sendBy = NOW.getTime() - 1_000 // a slot whose lease has as good as run out
    await s.run(queued())
    const [byDeadline, bySlot] = s.ses.signals
    expect(byDeadline?.aborted).toBe(false)
    deadline.abort()
    expect(byDeadline?.aborted).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(bySlot?.aborted).toBe(true)
  })

  it('dry run: nothing claimed, no slot, nothing sent', async () => {
    const s = sender({ dryRun: true })
    expect(await s.run(queued())).toEqual({ kind: 'dry-run' })
    expect(s.ledger?.entries.size).toBe(0)
    expect(s.pace.acquired).toBe(0)
    expect(s.ses.requests).toEqual([])
  })

  it('without a ledger each delivery sends (exactly-once off)', async () => {
    const s = sender({ ledger: null })
    await s.run(queued())
    await s.run(queued())
    expect(s.ses.requests).toHaveLength(2)
  })
})

// ------------------------------------------------------------------------------ the queue's message body

describe('the queue message body', () => {
  it('carries the request exactly, dates as ISO strings, and reads back the same', () => {
    const bounce = queued({ queuedAt: NOW })
    const body = encodeQueuedBounce(bounce)
    const json = JSON.parse(body)
    expect(json.format).toBe('ses-bouncer/queued-bounce@1')
    expect(json.request.MessageDsn.ArrivalDate).toBe(RECEIVED_AT.toISOString())
    expect(json.queuedAt).toBe(NOW.toISOString())
    expect(decodeQueuedBounce(body)).toEqual({ ok: true, bounce })
  })

  it('names every reason a body cannot be sent, and never throws', () => {
    const good = JSON.parse(encodeQueuedBounce(queued()))
    const variant = (change: (json: typeof good) => void) => {
      const copy = structuredClone(good)
      change(copy)
      return decodeQueuedBounce(JSON.stringify(copy))
    }
    expect(decodeQueuedBounce('not json')).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^not JSON: /)],
    })
    expect(variant((json) => (json.format = 'ses-bouncer/queued-bounce@2'))).toEqual({
      ok: false,
      problems: ['format: Invalid input: expected "ses-bouncer/queued-bounce@1"'],
    })
    expect(
      variant((json) => {
        json.request.BouncedRecipientInfoList = []
        json.request.MessageDsn.ArrivalDate = 'yesterday'
        delete json.receivedAt
      }),
    ).toEqual({
      ok: false,
      problems: [
        expect.stringMatching(/^receivedAt: /),
        expect.stringMatching(/^request\.MessageDsn\.ArrivalDate: /),
        expect.stringMatching(/^request\.BouncedRecipientInfoList: /),
      ],
    })
    expect(decodeQueuedBounce('x'.repeat(300_000))).toEqual({
      ok: false,
      problems: ['body of 300000 characters'],
    })
    expect(decodeQueuedBounce('null').ok).toBe(false)
  })
})
