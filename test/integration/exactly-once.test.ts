import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { DynamoLedger } from '../../src/adapters/dynamo-ledger.js'
import { coldStartBounceHandler, invokeBounce, outcomeLine } from '../support/bounce-handler.js'
import { type DynamoServer, startDynamo } from '../support/dynamo-server.js'
import { EVENTS_DIR, receiptEvent } from '../support/events.js'
import { captureOutput, lambdaContext } from '../support/lambda.js'
import { type SesStub, startSesStub } from '../support/ses-stub.js'

const TABLE = 'ses-bouncer-idempotency'

let ses: SesStub
let dynamo: DynamoServer

beforeAll(async () => {
  ;[ses, dynamo] = await Promise.all([
    startSesStub(),
    startDynamo({ tables: [{ name: TABLE, partitionKey: 'id' }] }),
  ])
})

afterAll(async () => {
  await Promise.all([ses?.close(), dynamo?.close()])
})

afterEach(() => {
  vi.unstubAllEnvs()
  ses.reset()
})

const coldStart = (env: Record<string, string> = {}) =>
  coldStartBounceHandler({
    IDEMPOTENCY_TABLE: TABLE,
    MAIL_DIR: EVENTS_DIR,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    AWS_ENDPOINT_URL_SES: ses.url,
    ...env,
  })

let sequence = 0
/** The unknown-recipient case (event-only rules) under a message id no other test uses. */
function freshEvent(invocationType: 'Event' | 'RequestResponse' = 'RequestResponse', sender?: string) {
  const event = receiptEvent('unknown-recipient')
  const ses = event.Records[0].ses
  sequence += 1
  ses.mail.messageId = `exactlyonce${Date.now().toString(36)}${sequence.toString().padStart(4, '0')}`
  ses.receipt.action.invocationType = invocationType
  if (sender !== undefined) ses.mail.source = sender
  return event
}

const sentBounces = () => ses.requestsFor('SendBounce').length

describe('exactly one bounce per message, against DynamoDB on loopback', () => {
  it('answers a duplicate event without a second SendBounce', async () => {
    const handler = await coldStart()
    const event = freshEvent()

    const first = await invokeBounce(handler, event)
    const second = await invokeBounce(handler, event)

    expect(sentBounces()).toBe(1)
    expect(first.result).toEqual({ disposition: 'STOP_RULE_SET' })
    expect(second.result).toEqual({ disposition: 'STOP_RULE_SET' })
    const sent = outcomeLine(first.lines).bounce as { outcome: string; bounceMessageId: string }
    expect(sent.outcome).toBe('sent')
    expect(outcomeLine(second.lines).bounce).toEqual({
      outcome: 'duplicate',
      bounceMessageId: sent.bounceMessageId,
    })
  })

  it('sends one SendBounce for 10 concurrent invocations of one event in 10 containers', async () => {
    const handlers = []
    for (let container = 0; container < 10; container += 1) handlers.push(await coldStart())
    const event = freshEvent()
    ses.failNext('SendBounce', { delayMs: 400 })

    // One capture for all: concurrent invocations share the process's stdout.
    const output = captureOutput()
    let results: PromiseSettledResult<{ disposition: string }>[]
    try {
      results = await Promise.allSettled(handlers.map((handler) => handler(event, lambdaContext())))
    } finally {
      output.restore()
    }

    expect(sentBounces()).toBe(1)
    expect(results.map((result) => result.status)).toEqual(Array(10).fill('fulfilled'))
    const outcomes = output
      .lines()
      .filter((line) => Array.isArray(line.recipients))
      .map((line) => (line.bounce as { outcome: string }).outcome)
    expect(outcomes).toHaveLength(10)
    expect(outcomes.filter((outcome) => outcome === 'sent')).toHaveLength(1)
    expect(
      outcomes.filter((outcome) => outcome !== 'sent').every((o) => o === 'in-progress' || o === 'duplicate'),
    ).toBe(true)
  })

  it("releases the claim when SendBounce fails, so Lambda's retry sends exactly one bounce", async () => {
    const handler = await coldStart()
    const event = freshEvent('Event')
    ses.failNext('SendBounce', { status: 503, code: 'ServiceUnavailable', message: 'try later' }, 5)

    const failed = await invokeBounce(handler, event)
    expect(failed.error?.message).toMatch(/ServiceUnavailable/)
    expect(sentBounces()).toBe(5)

    const retried = await invokeBounce(handler, event)
    expect(retried.error).toBeUndefined()
    expect(outcomeLine(retried.lines).bounce).toMatchObject({ outcome: 'sent' })
    const again = await invokeBounce(handler, event)
    expect(outcomeLine(again.lines).bounce).toMatchObject({ outcome: 'duplicate' })
    expect(sentBounces()).toBe(6)
  })

  it('turns bounces to one sender beyond maxBouncesPerSender an hour into drops (guard rate)', async () => {
    const handler = await coldStart({ RULES_FILE: await sampleRulesWith('maxBouncesPerSender: 3') })
    const stamp = Date.now()
    // One mailbox, five spellings: quoted, escaped, upper case, Unicode and A-label domain.
    const spellings = [
      `forged-${stamp}@bücher.example`,
      `"forged-${stamp}"@xn--bcher-kva.example`,
      `"forged\\-${stamp}"@BÜCHER.example`,
      `FORGED-${stamp}@XN--BCHER-KVA.example`,
      `"Forged-${stamp}+x"@bücher.example.`,
    ]

    const outcomes = []
    for (const sender of spellings) {
      const { lines } = await invokeBounce(handler, freshEvent('RequestResponse', sender))
      outcomes.push(outcomeLine(lines))
    }

    expect(sentBounces()).toBe(3)
    expect(outcomes.map((line) => (line.bounce as { outcome: string }).outcome)).toEqual([
      'sent',
      'sent',
      'sent',
      'rate-limited',
      'rate-limited',
    ])
    expect(outcomes[4]?.recipients).toEqual([
      {
        recipient: 'nobody@example.com',
        action: 'drop',
        rule: 'unknown-recipient',
        status: '5.1.1',
        guard: 'rate',
      },
    ])
    expect(outcomes[4]?.disposition).toBe('STOP_RULE_SET')
    expect(outcomes[4]?.bounce).toEqual({ outcome: 'rate-limited', guard: 'rate', bouncesThisHour: 5 })
  })

  it('turns bounces to many mailboxes of one domain beyond maxBouncesPerSenderDomain into drops (guard domainRate)', async () => {
    const handler = await coldStart({
      RULES_FILE: await sampleRulesWith('maxBouncesPerSenderDomain: 2'),
    })
    const domain = `victim-${Date.now()}.example`
    const outcomes = []
    for (const local of ['alice', 'bob', 'carol']) {
      const { lines } = await invokeBounce(handler, freshEvent('RequestResponse', `${local}@${domain}`))
      outcomes.push(outcomeLine(lines))
    }
    expect(sentBounces()).toBe(2)
    expect(outcomes[2]?.bounce).toEqual({ outcome: 'rate-limited', guard: 'domainRate', bouncesThisHour: 3 })
    expect(outcomes[2]?.recipients).toEqual([
      expect.objectContaining({ action: 'drop', guard: 'domainRate' }),
    ])
  })
})

describe('the DynamoDB ledger’s hourly counters, against DynamoDB on loopback', () => {
  it('counts per mailbox and per domain under separate keys, per UTC hour, with a TTL', async () => {
    const client = new DynamoDBClient({ endpoint: dynamo.url, region: 'us-east-1' })
    const ledger = new DynamoLedger(client, TABLE)
    const at = new Date('2026-11-20T14:59:59.000Z')
    const target = `counted-${Date.now()}.example`
    try {
      expect(await ledger.countBounceToDomain(target, at)).toBe(1)
      expect(await ledger.countBounceToDomain(target, at)).toBe(2)
      // The same text as a mailbox key is another counter.
      expect(await ledger.countBounceTo(target, at)).toBe(1)
      // The next hour starts again.
      expect(await ledger.countBounceToDomain(target, new Date('2026-11-20T15:00:00.000Z'))).toBe(1)

      const { Item } = await client.send(
        new GetItemCommand({
          TableName: TABLE,
          Key: { id: { S: `bounces-to-domain#${target}#2026-11-20T14` } },
        }),
      )
      // Expires an hour after its hour ends.
      expect(Item).toEqual({
        id: { S: `bounces-to-domain#${target}#2026-11-20T14` },
        count: { N: '2' },
        expiration: { N: String(Date.parse('2026-11-20T16:00:00.000Z') / 1000) },
      })
    } finally {
      client.destroy()
    }
  })
})

/** The sample rules (events/bounce-rules.yml) with one safety setting replaced, in a fresh folder. */
async function sampleRulesWith(setting: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'rate-'))
  const [name] = setting.split(':')
  const rules = (await readFile(join(EVENTS_DIR, 'bounce-rules.yml'), 'utf8')).replace(
    new RegExp(`${name}: \\d+`),
    setting,
  )
  if (!rules.includes(setting)) throw new Error(`the sample rules have no ${name}`)
  await writeFile(join(directory, 'bounce-rules.yml'), rules)
  for (const list of ['mailboxes.txt', 'blocked-senders.txt']) {
    await writeFile(join(directory, list), await readFile(join(EVENTS_DIR, list)))
  }
  return join(directory, 'bounce-rules.yml')
}
