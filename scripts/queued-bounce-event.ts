/**
 * `npm run -s queued-bounce-event > events/queued-bounce.json`: the SQS event the bounce sender
 * (handlers/send-bounces.ts) receives for two sample messages, unknown-recipient and
 * partly-unknown. Each body is exactly what the bounce function puts on the queue for that
 * message: the rules in events/, the real request builder and queue encoder. The test
 * send-bounces-handler.test.ts checks that the file in events/ is still what this prints.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as yaml from 'yaml'
import { DirectoryMessageSource } from '../src/adapters/directory-message-source.js'
import { encodeQueuedBounce } from '../src/adapters/queued-bounce-message.js'
import { receivedMessageFrom, SesReceiptEventSchema } from '../src/adapters/ses-event.js'
import { makeProcessInbound } from '../src/app/process-inbound.js'
import { loadConfig } from '../src/config/load-config.js'
import type { QueuedBounce } from '../src/domain/queued-bounce.js'

const EVENTS = join(import.meta.dirname, '..', 'events')
const CASES = ['unknown-recipient', 'partly-unknown']
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:ses-bouncer-dev-bounces'
// The bounce function's role id and session: who sent the message, as SQS reports it.
const SENDER_ID = 'AROAEXAMPLEBOUNCEROLE:ses-bouncer-dev-bounce'

/** The bounces the bounce function would queue for one sample event, queued 41 ms after receipt. */
async function queuedFor(name: string): Promise<QueuedBounce> {
  const event = SesReceiptEventSchema.parse(JSON.parse(readFileSync(join(EVENTS, `${name}.json`), 'utf8')))
  const message = await receivedMessageFrom(event)
  const config = loadConfig(
    { RULES_FILE: join(EVENTS, 'bounce-rules.yml'), MAIL_DIR: EVENTS, DRY_RUN: 'false' },
    { readText: (path) => readFileSync(path, 'utf8'), yaml },
  )
  const queuedAt = new Date(message.receivedAt.getTime() + 41)
  const queued: QueuedBounce[] = []
  const processInbound = makeProcessInbound({
    ruleSet: config.ruleSet,
    messageSource: new DirectoryMessageSource(EVENTS),
    bounceSender: {
      send: () => Promise.reject(new Error('the queue, not SES, takes a bounce here')),
    },
    bounceQueue: {
      enqueue: async (bounce) => {
        queued.push(bounce)
        return ''
      },
    },
    now: () => queuedAt,
  })
  await processInbound(message, AbortSignal.timeout(10_000))
  const [bounce] = queued
  if (bounce === undefined) throw new Error(`${name}: the bounce function queues no bounce for it`)
  return bounce
}

/** A stable UUID-shaped id from a seed, like the SQS message ids Lambda passes. */
function uuidFrom(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

export async function queuedBounceEvent(): Promise<unknown> {
  const records = []
  for (const name of CASES) {
    const bounce = await queuedFor(name)
    const body = encodeQueuedBounce(bounce)
    const sent = bounce.queuedAt.getTime()
    records.push({
      messageId: uuidFrom(`message:${name}`),
      receiptHandle: Buffer.from(`receipt:${name}`).toString('base64'),
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(sent),
        SenderId: SENDER_ID,
        ApproximateFirstReceiveTimestamp: String(sent + 12),
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: QUEUE_ARN,
      awsRegion: 'us-east-1',
    })
  }
  return { Records: records }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await queuedBounceEvent(), null, 2))
}
