import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { queuedBounceEvent } from '../../scripts/queued-bounce-event.js'
import { coldStartBounceHandler, invokeBounce, outcomeLine } from '../support/bounce-handler.js'
import { type DynamoServer, startDynamo } from '../support/dynamo-server.js'
import { EVENTS_DIR, receiptEvent } from '../support/events.js'
import { AN_ADDRESS, captureOutput, type LogLine } from '../support/lambda.js'
import {
  bounceLines,
  coldStartSenderHandler,
  outcomes,
  type SenderHandler,
  senderContext,
} from '../support/send-bounces-handler.js'
import { type SesStub, startSesStub } from '../support/ses-stub.js'
import { type PollResult, SqsEventSource } from '../support/sqs-event-source.js'
import { type SqsServer, startSqs } from '../support/sqs-server.js'

/**
 * The bounce queue end to end against the real local servers: the bounce function queueing on
 * fauxqs, the sender drained the way Lambda's SQS event source drains it, claims and the pace in
 * dynalite, and the SES stub checking every SendBounce on the wire (and, where a test sets it,
 * answering Throttling above the rate).
 */

const TABLE = 'ses-bouncer-queue-state'

let ses: SesStub
let dynamo: DynamoServer
let sqs: SqsServer
let client: SQSClient

beforeAll(async () => {
  ;[ses, dynamo, sqs] = await Promise.all([
    startSesStub(),
    startDynamo({ tables: [{ name: TABLE, partitionKey: 'id' }] }),
    startSqs(),
  ])
  client = new SQSClient({ endpoint: sqs.url, region: 'us-east-1' })
})

afterAll(async () => {
  client?.destroy()
  await Promise.all([ses?.close(), dynamo?.close(), sqs?.close()])
})

afterEach(() => {
  vi.unstubAllEnvs()
  ses.reset()
  ses.sendBounceRate = undefined
})

let queues = 0
/** A fresh bounce queue with its dead-letter queue, as serverless.yml builds them (shorter times). */
async function bounceQueue({ visibility = 1, maxReceiveCount = 5 } = {}) {
  queues += 1
  const name = `bounces-${queues}`
  const dead = await sqs.createQueue(`${name}-dead`)
  const queue = await sqs.createQueue(name, {
    VisibilityTimeout: String(visibility),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: dead.arn,
      maxReceiveCount: String(maxReceiveCount),
    }),
  })
  return {
    name,
    deadName: `${name}-dead`,
    url: queue.url,
    deadUrl: dead.url,
    source: (batchSize = 5) =>
      new SqsEventSource({ endpoint: sqs.url, queueUrl: queue.url, queueArn: queue.arn, batchSize }),
    send: async (body: string) => {
      await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }))
    },
    drained: async () => {
      const depth = await sqs.depth(name)
      return depth.waiting + depth.inFlight === 0
    },
  }
}

const SAMPLE = JSON.parse(readFileSync(join(EVENTS_DIR, 'queued-bounce.json'), 'utf8'))

let sequence = 0
/** A queued bounce as the bounce function writes it, for a message id no other test uses. */
function queuedBody({ ageMs = 1_000, format }: { ageMs?: number; format?: string } = {}) {
  const body = JSON.parse(SAMPLE.Records[0].body)
  sequence += 1
  const messageId = `queued${Date.now().toString(36)}${sequence.toString().padStart(4, '0')}`
  const receivedAt = new Date(Date.now() - ageMs).toISOString()
  body.request.OriginalMessageId = messageId
  body.request.MessageDsn.ArrivalDate = receivedAt
  body.receivedAt = receivedAt
  body.queuedAt = new Date(Date.now() - ageMs + 50).toISOString()
  if (format !== undefined) body.format = format
  return { messageId, request: body.request, body: JSON.stringify(body) }
}

const senderEnv = (env: Record<string, string> = {}) => ({
  IDEMPOTENCY_TABLE: TABLE,
  AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
  AWS_ENDPOINT_URL_SES: ses.url,
  AWS_ENDPOINT_URL_SQS: sqs.url,
  BOUNCE_RATE_PER_SECOND: '20',
  ...env,
})

/** One poll of the event source invoking `handler`, its log lines captured. */
async function deliver(
  source: SqsEventSource,
  handler: SenderHandler,
  context = senderContext(),
): Promise<{ result: PollResult; lines: LogLine[]; text: string }> {
  const output = captureOutput()
  try {
    const result = await source.pollOnce((event) => handler(event, context))
    return { result, lines: output.lines(), text: output.text() }
  } finally {
    output.restore()
  }
}

const sendBounces = () => ses.requestsFor('SendBounce')
const accepted = () => sendBounces().filter((request) => request.status === 200)
const throttled = () => sendBounces().filter((request) => request.rawBody !== '' && request.status === 400)

describe('the bounce function with BOUNCE_QUEUE_URL', () => {
  const receiptEnv = (queueUrl: string) => ({
    IDEMPOTENCY_TABLE: TABLE,
    MAIL_DIR: EVENTS_DIR,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    AWS_ENDPOINT_URL_SES: ses.url,
    AWS_ENDPOINT_URL_SQS: sqs.url,
    BOUNCE_QUEUE_URL: queueUrl,
  })
  const freshEvent = () => {
    const event = receiptEvent('unknown-recipient')
    sequence += 1
    event.Records[0].ses.mail.messageId = `receipt${Date.now().toString(36)}${sequence.toString().padStart(4, '0')}`
    return event
  }

  it('queues the exact request and returns without SES; the sender sends what inline sending would', async () => {
    const q = await bounceQueue()
    const receipt = await coldStartBounceHandler(receiptEnv(q.url))
    const event = freshEvent()

    const decided = await invokeBounce(receipt, event)
    expect(decided.result).toEqual({ disposition: 'STOP_RULE_SET' })
    expect(outcomeLine(decided.lines).bounce).toEqual({
      outcome: 'queued',
      queueMessageId: expect.any(String),
    })
    expect(sendBounces()).toEqual([])
    expect(await sqs.depth(q.name)).toEqual({ waiting: 1, inFlight: 0 })

    // SES delivers the same event again: the claim answers, nothing is queued twice.
    const again = await invokeBounce(receipt, event)
    expect(again.result).toEqual({ disposition: 'STOP_RULE_SET' })
    expect(outcomeLine(again.lines).bounce).toEqual({ outcome: 'duplicate', bounceMessageId: null })
    expect(await sqs.depth(q.name)).toEqual({ waiting: 1, inFlight: 0 })

    const sender = await coldStartSenderHandler(senderEnv())
    const { result, lines } = await deliver(q.source(), sender)
    expect(result).toEqual({ received: 1, deleted: 1, leftOnQueue: 0, invocationFailed: false })
    expect(outcomes(lines)).toEqual(['sent'])
    const [queued] = sendBounces()

    // Without a queue (and without a table) the bounce function sends the very same request.
    ses.reset()
    const inline = await coldStartBounceHandler({
      MAIL_DIR: EVENTS_DIR,
      AWS_ENDPOINT_URL_SES: ses.url,
      IDEMPOTENCY_TABLE: '',
      BOUNCE_QUEUE_URL: '',
    })
    await invokeBounce(inline, event)
    const [direct] = sendBounces()
    expect(queued?.params).toEqual(direct?.params)
    expect(queued?.params['BouncedRecipientInfoList.member.1.Recipient']).toBe('nobody@example.com')
  })

  it('fails open when the queue cannot be written: CONTINUE, one error line, the claim released', async () => {
    const q = await bounceQueue()
    const missing = q.url.replace(/[^/]+$/, `not-yet-${queues}`)
    const receipt = await coldStartBounceHandler(receiptEnv(missing))
    const event = freshEvent()

    const failed = await invokeBounce(receipt, event)
    expect(failed.result).toEqual({ disposition: 'CONTINUE' })
    const errors = failed.lines.filter((line) => line.level === 'ERROR')
    expect(errors).toHaveLength(1)
    expect(errors[0]?.message).toBe('bounce not sent, delivering the message')
    expect(JSON.stringify(errors[0]?.error)).toMatch(
      /SendMessage for receipt\w+: .*(NonExistentQueue|QueueDoesNotExist)/,
    )
    expect(sendBounces()).toEqual([])

    // The claim was released: once the queue exists, a retried event queues the bounce.
    await sqs.createQueue(`not-yet-${queues}`)
    const retried = await invokeBounce(receipt, event)
    expect(retried.result).toEqual({ disposition: 'STOP_RULE_SET' })
    expect(outcomeLine(retried.lines).bounce).toMatchObject({ outcome: 'queued' })
  })
})

describe('the sender (handlers/send-bounces.ts) drained like Lambda’s SQS event source', () => {
  it('sends each queued bounce once, logs and counts it, and lets the queue delete it', async () => {
    const q = await bounceQueue()
    const first = queuedBody({ ageMs: 30_000 })
    const second = queuedBody()
    await q.send(first.body)
    await q.send(second.body)
    const sender = await coldStartSenderHandler(senderEnv())

    const { result, lines, text } = await deliver(q.source(), sender)
    expect(result).toEqual({ received: 2, deleted: 2, leftOnQueue: 0, invocationFailed: false })
    expect(accepted().map((request) => request.params.OriginalMessageId)).toEqual([
      first.messageId,
      second.messageId,
    ])
    const line = bounceLines(lines).find((entry) => entry.messageId === first.messageId)
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'bounce sent',
      sender: 'jordan.lee@northwind.example',
      recipients: ['nobody@example.com'],
      receiveCount: 1,
      bounce: { outcome: 'sent', bounceMessageId: expect.stringMatching(/^0100/) },
    })
    expect(line?.queuedForSeconds).toBeGreaterThanOrEqual(29)
    expect(text).toContain('"BouncesSent"')
    expect(text).toContain('"BounceQueueDelaySeconds"')
    expect(await q.drained()).toBe(true)
  })

  it('two sender instances racing on one queue keep to the rate and send every bounce once', async () => {
    ses.sendBounceRate = 4
    // A visibility timeout shorter than a batch takes: batches also come back while they run.
    const q = await bounceQueue({ visibility: 1 })
    const bodies = Array.from({ length: 8 }, () => queuedBody())
    for (const { body } of bodies) await q.send(body)
    const env = senderEnv({ BOUNCE_RATE_PER_SECOND: '4' })
    const instances = [await coldStartSenderHandler(env), await coldStartSenderHandler(env)]

    const output = captureOutput()
    let polls: PollResult[][]
    try {
      polls = await Promise.all(
        instances.map((handler) => q.source(3).run((event) => handler(event, senderContext()), q.drained)),
      )
    } finally {
      output.restore()
    }

    expect(polls.map((instance) => instance.length > 0)).toEqual([true, true])
    expect(throttled()).toEqual([])
    const sent = accepted()
    expect(sent.map((request) => request.params.OriginalMessageId).sort()).toEqual(
      bodies.map((body) => body.messageId).sort(),
    )
    for (let i = 1; i < sent.length; i++) {
      expect((sent[i]?.at ?? 0) - (sent[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(250)
    }
  })

  it('the same race without the shared table: each instance paces only itself, and SES throttles', async () => {
    ses.sendBounceRate = 4
    const q = await bounceQueue({ visibility: 5 })
    const bodies = Array.from({ length: 8 }, () => queuedBody())
    for (const { body } of bodies) await q.send(body)
    const env = senderEnv({ BOUNCE_RATE_PER_SECOND: '4', IDEMPOTENCY_TABLE: '' })
    const instances = [await coldStartSenderHandler(env), await coldStartSenderHandler(env)]

    const output = captureOutput()
    try {
      await Promise.all(
        instances.map((handler) => q.source(4).run((event) => handler(event, senderContext()), q.drained)),
      )
    } finally {
      output.restore()
    }
    // The check above can fail: this is what it catches.
    expect(throttled().length).toBeGreaterThan(0)
    expect(new Set(accepted().map((request) => request.params.OriginalMessageId))).toEqual(
      new Set(bodies.map((body) => body.messageId)),
    )
  })

  it('a redelivered batch sends nothing twice', async () => {
    const q = await bounceQueue({ visibility: 1 })
    const bodies = [queuedBody(), queuedBody(), queuedBody()]
    for (const { body } of bodies) await q.send(body)
    const sender = await coldStartSenderHandler(senderEnv())

    // The first invocation sends all three, then times out before Lambda deletes anything.
    const output = captureOutput()
    let first: PollResult
    try {
      first = await q.source().pollOnce(async (event) => {
        await sender(event, senderContext())
        throw new Error('Task timed out after 60.00 seconds')
      })
    } finally {
      output.restore()
    }
    expect(first).toMatchObject({ received: 3, deleted: 0, invocationFailed: true })
    expect(accepted()).toHaveLength(3)

    await sleep(1_100) // the visibility timeout: the batch comes back
    const { result, lines } = await deliver(q.source(), sender)
    expect(result).toEqual({ received: 3, deleted: 3, leftOnQueue: 0, invocationFailed: false })
    expect(outcomes(lines)).toEqual(['duplicate', 'duplicate', 'duplicate'])
    expect(bounceLines(lines).map((line) => line.receiveCount)).toEqual([2, 2, 2])
    expect(accepted()).toHaveLength(3)
  })

  it('a bounce queued twice is sent once', async () => {
    const q = await bounceQueue()
    const { body } = queuedBody()
    await q.send(body)
    await q.send(body)
    const sender = await coldStartSenderHandler(senderEnv())
    const { result, lines } = await deliver(q.source(), sender)
    expect(result.deleted).toBe(2)
    expect(outcomes(lines)).toEqual(['sent', 'duplicate'])
    const [sent, duplicate] = bounceLines(lines).map((line) => line.bounce as { bounceMessageId?: string })
    expect(duplicate).toEqual({
      outcome: 'duplicate',
      earlier: 'sent',
      bounceMessageId: sent?.bounceMessageId,
    })
    expect(accepted()).toHaveLength(1)
  })

  it('a delivery whose bounce another instance is sending right now is left for later', async () => {
    const q = await bounceQueue({ visibility: 1 })
    const { body } = queuedBody()
    await q.send(body)
    await q.send(body)
    ses.failNext('SendBounce', { delayMs: 500 })
    const instances = [await coldStartSenderHandler(senderEnv()), await coldStartSenderHandler(senderEnv())]
    const output = captureOutput()
    let results: PollResult[]
    try {
      const sources = [q.source(1), q.source(1)]
      results = await Promise.all(
        instances.map((handler, i) =>
          (sources[i] as SqsEventSource).pollOnce((event) => handler(event, senderContext())),
        ),
      )
    } finally {
      output.restore()
    }
    expect(results.map((r) => r.leftOnQueue).sort()).toEqual([0, 1])
    expect(outcomes(output.lines()).sort()).toEqual(['retry', 'sent'])
    expect(bounceLines(output.lines()).find((line) => line.level === 'WARN')?.bounce).toEqual({
      outcome: 'retry',
      reason: 'in-progress',
    })

    await sleep(1_100)
    const { lines } = await deliver(q.source(), instances[0] as SenderHandler)
    expect(outcomes(lines)).toEqual(['duplicate'])
    expect(accepted()).toHaveLength(1)
  })

  it('throttled by SES: left on the queue with the claim released, sent on the next delivery', async () => {
    const q = await bounceQueue({ visibility: 1 })
    const { body, messageId } = queuedBody()
    await q.send(body)
    ses.failNext('SendBounce', { status: 400, code: 'Throttling', message: 'Rate exceeded' })
    const sender = await coldStartSenderHandler(senderEnv())

    const throttledOnce = await deliver(q.source(), sender)
    expect(throttledOnce.result).toMatchObject({ received: 1, leftOnQueue: 1, invocationFailed: false })
    expect(bounceLines(throttledOnce.lines)[0]).toMatchObject({
      level: 'WARN',
      message: 'bounce not sent yet; left on the queue for another delivery',
      bounce: { outcome: 'retry', reason: 'throttled' },
    })
    expect(throttledOnce.text).toContain('"BouncesThrottled"')

    await sleep(1_100)
    const retried = await deliver(q.source(), sender)
    expect(outcomes(retried.lines)).toEqual(['sent'])
    // One call per delivery: the sender's SES client does not retry on its own.
    expect(sendBounces().map((request) => request.status)).toEqual([400, 200])
    expect(accepted()[0]?.params.OriginalMessageId).toBe(messageId)
  })

  it('a transient SES fault: one call, left on the queue, sent on the next delivery', async () => {
    const q = await bounceQueue({ visibility: 1 })
    await q.send(queuedBody().body)
    ses.failNext('SendBounce', { status: 503, code: 'ServiceUnavailable', message: 'try later' })
    const sender = await coldStartSenderHandler(senderEnv())
    const failed = await deliver(q.source(), sender)
    expect(failed.result.leftOnQueue).toBe(1)
    expect(bounceLines(failed.lines)[0]?.bounce).toEqual({ outcome: 'retry', reason: 'transient' })
    await sleep(1_100)
    expect(outcomes((await deliver(q.source(), sender)).lines)).toEqual(['sent'])
    expect(sendBounces().map((request) => request.status)).toEqual([503, 200])
  })

  it('MessageRejected is final: logged with the cause, counted, deleted, never sent again', async () => {
    const q = await bounceQueue()
    const { body } = queuedBody()
    await q.send(body)
    ses.failNext('SendBounce', {
      status: 400,
      code: 'MessageRejected',
      message: 'Email address is not verified.',
    })
    const sender = await coldStartSenderHandler(senderEnv())

    const { result, lines, text } = await deliver(q.source(), sender)
    expect(result).toMatchObject({ deleted: 1, leftOnQueue: 0 })
    expect(bounceLines(lines)[0]).toMatchObject({
      level: 'ERROR',
      message: 'bounce refused by SES for good; not retried',
      error: expect.stringMatching(/MessageRejected \(HTTP 400\): Email address is not verified\./),
    })
    expect(text).toContain('"BouncesRejected"')

    await q.send(body)
    const again = await deliver(q.source(), sender)
    expect(bounceLines(again.lines)[0]?.bounce).toEqual({
      outcome: 'duplicate',
      earlier: 'rejected',
      bounceMessageId: null,
    })
    expect(sendBounces()).toHaveLength(1)
  })

  it('with LOG_ADDRESSES=hash logs no address, even SES’s own error text, yet sends to the real ones', async () => {
    const key = 'sender-test-key-0123456789abcdef0123'
    const q = await bounceQueue()
    const { body, request } = queuedBody()
    await q.send(body)
    ses.failNext('SendBounce', {
      status: 400,
      code: 'MessageRejected',
      message:
        'Email address is not verified. The following identities failed the check: mailer-daemon@example.com',
    })
    const sender = await coldStartSenderHandler(senderEnv({ LOG_ADDRESSES: 'hash', LOG_ADDRESS_KEY: key }))
    const { lines } = await deliver(q.source(), sender)
    expect(bounceLines(lines)[0]).toMatchObject({ message: 'bounce refused by SES for good; not retried' })
    for (const line of lines) expect(JSON.stringify(line)).not.toMatch(AN_ADDRESS)
    const [send] = sendBounces()
    expect(send?.params['BouncedRecipientInfoList.member.1.Recipient']).toBe(
      request.BouncedRecipientInfoList[0]?.Recipient,
    )
    expect(request.BouncedRecipientInfoList[0]?.Recipient).toMatch(AN_ADDRESS)
  })

  it('older than 24 hours when its turn comes: expired, logged, counted, deleted, not sent', async () => {
    const q = await bounceQueue()
    await q.send(queuedBody({ ageMs: 25 * 60 * 60 * 1000 }).body)
    const sender = await coldStartSenderHandler(senderEnv())
    const { result, lines, text } = await deliver(q.source(), sender)
    expect(result).toMatchObject({ deleted: 1, leftOnQueue: 0 })
    expect(bounceLines(lines)[0]).toMatchObject({
      level: 'WARN',
      message: 'bounce not sent: SendBounce accepts only messages received in the last 24 hours',
      bounce: { outcome: 'expired' },
    })
    expect(text).toContain('"BouncesExpired"')
    expect(sendBounces()).toEqual([])
  })

  it('moves an unreadable message to the dead-letter queue with its reason, once', async () => {
    const q = await bounceQueue()
    await q.send('{"truncated":')
    await q.send(queuedBody({ format: 'ses-bouncer/queued-bounce@2' }).body)
    const sender = await coldStartSenderHandler(senderEnv({ BOUNCE_DEAD_LETTER_URL: q.deadUrl }))

    const { result, lines } = await deliver(q.source(), sender)
    expect(result).toMatchObject({ received: 2, deleted: 2, leftOnQueue: 0 })
    const errors = lines.filter(
      (line) => line.message === 'unreadable queue message moved to the dead-letter queue',
    )
    expect(errors).toHaveLength(2)
    const dead = await sqs.waiting(q.deadName)
    expect(dead.map((message) => message.attributes.reason)).toEqual([
      expect.stringMatching(/^not JSON: /),
      'format: Invalid input: expected "ses-bouncer/queued-bounce@1"',
    ])
    expect(dead[0]?.body).toBe('{"truncated":')
    expect(sendBounces()).toEqual([])
  })

  it('without a dead-letter URL leaves an unreadable message to the queue’s redrive policy', async () => {
    const q = await bounceQueue({ visibility: 1, maxReceiveCount: 2 })
    await q.send('not a bounce')
    const sender = await coldStartSenderHandler(senderEnv())
    for (let delivery = 1; delivery <= 2; delivery++) {
      const { result, lines } = await deliver(q.source(), sender)
      expect(result).toMatchObject({ received: 1, leftOnQueue: 1 })
      expect(lines.filter((line) => line.level === 'ERROR').map((line) => line.message)).toEqual([
        'unreadable queue message; left for the redrive policy to move aside',
      ])
      await sleep(1_100)
    }
    expect((await deliver(q.source(), sender)).result.received).toBe(0)
    expect((await sqs.waiting(q.deadName)).map((message) => message.body)).toEqual(['not a bounce'])
  })

  it('starts nothing it cannot finish before the deadline: the batch goes back to the queue', async () => {
    const q = await bounceQueue()
    await q.send(queuedBody().body)
    await q.send(queuedBody().body)
    const sender = await coldStartSenderHandler(senderEnv())
    const { result, lines } = await deliver(q.source(), sender, senderContext(10_000))
    expect(result).toMatchObject({ received: 2, deleted: 0, leftOnQueue: 2, invocationFailed: false })
    expect(lines.find((line) => line.level === 'WARN')).toMatchObject({
      message: 'left bounces for the next delivery: too close to the invocation deadline',
      skipped: 2,
    })
    expect(sendBounces()).toEqual([])
  })

  it('dry run: logs what it would send, sends and claims nothing, and lets the message go', async () => {
    const q = await bounceQueue()
    const { body, request } = queuedBody()
    await q.send(body)
    // A table that does not exist: any claim or slot would fail the item.
    const sender = await coldStartSenderHandler(
      senderEnv({ DRY_RUN: 'true', IDEMPOTENCY_TABLE: 'no-such-table' }),
    )
    const { result, lines } = await deliver(q.source(), sender)
    expect(result).toMatchObject({ deleted: 1, leftOnQueue: 0 })
    expect(bounceLines(lines)[0]).toMatchObject({
      message: 'bounce not sent: dry run',
      bounce: { outcome: 'dry-run', wouldSend: request },
    })
    expect(sendBounces()).toEqual([])
  })
})

describe('events/queued-bounce.json', () => {
  it('is what the bounce function queues for the unknown-recipient and partly-unknown samples', async () => {
    expect(SAMPLE).toEqual(await queuedBounceEvent())
  })

  it('runs through the sender offline, as `invoke local` runs it: dry run, no table, no AWS', async () => {
    const sender = await coldStartSenderHandler({ DRY_RUN: 'true' })
    const output = captureOutput()
    let response: unknown
    try {
      response = await sender(SAMPLE, senderContext())
    } finally {
      output.restore()
    }
    expect(response).toEqual({ batchItemFailures: [] })
    expect(bounceLines(output.lines()).map((line) => [line.messageId, line.recipients])).toEqual([
      ['unknownrcpt61wb2yk2wxlxvyiiujb1vqofbr9ru', ['nobody@example.com']],
      ['partly5wl3aesg519xq49x3isaw38p3ke2f5od2g', ['ghost@example.com', 'Phantom@Example.com']],
    ])
  })
})
