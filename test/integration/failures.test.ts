import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { coldStartBounceHandler, invokeBounce, outcomeLine } from '../support/bounce-handler.js'
import { EVENTS_DIR, receiptEvent } from '../support/events.js'
import { lambdaContext } from '../support/lambda.js'
import { type SesStub, startSesStub } from '../support/ses-stub.js'

let ses: SesStub
let slowS3: Server
let slowS3Requests = 0

beforeAll(async () => {
  ses = await startSesStub()
  // An S3 endpoint that is always overloaded: every request gets 503 SlowDown.
  slowS3 = createServer((request, response) => {
    slowS3Requests += 1
    request.resume()
    response.writeHead(503, { 'content-type': 'application/xml' })
    response.end(
      request.method === 'HEAD'
        ? undefined
        : '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
    )
  })
  await new Promise<void>((resolve) => slowS3.listen(0, '127.0.0.1', resolve))
})

afterAll(async () => {
  await ses?.close()
  await new Promise((resolve) => slowS3?.close(resolve))
})

afterEach(() => {
  vi.unstubAllEnvs()
  ses.reset()
  slowS3Requests = 0
})

const coldStart = (env: Record<string, string> = {}) =>
  coldStartBounceHandler({ MAIL_DIR: EVENTS_DIR, AWS_ENDPOINT_URL_SES: ses.url, ...env })

function event(name: string, invocationType: 'Event' | 'RequestResponse', receivedAt?: Date) {
  const sesEvent = receiptEvent(name, receivedAt)
  sesEvent.Records[0].ses.receipt.action.invocationType = invocationType
  return sesEvent
}

describe('transient AWS failures and the time budget', () => {
  it('retries throttled SendBounce calls with backoff and sends one bounce', async () => {
    const handler = await coldStart()
    ses.failNext(
      'SendBounce',
      { status: 400, code: 'Throttling', message: 'Maximum sending rate exceeded.' },
      2,
    )
    const { result, lines } = await invokeBounce(handler, event('unknown-recipient', 'RequestResponse'))
    expect(result).toEqual({ disposition: 'STOP_RULE_SET' })
    expect(ses.requestsFor('SendBounce')).toHaveLength(3)
    expect(outcomeLine(lines).bounce).toMatchObject({ outcome: 'sent' })
  })

  it('RequestResponse: stops retrying at the 30 s budget, returns CONTINUE and logs the error', async () => {
    const handler = await coldStart()
    ses.failNext('SendBounce', { delayMs: 20_000 }, 10)
    const started = Date.now()
    const { result, lines } = await invokeBounce(
      handler,
      event('unknown-recipient', 'RequestResponse'),
      lambdaContext(4_000),
    )
    expect(Date.now() - started).toBeLessThan(4_000)
    expect(result).toEqual({ disposition: 'CONTINUE' })
    const line = outcomeLine(lines)
    expect(line.level).toBe('ERROR')
    expect(line.bounce).toMatchObject({ outcome: 'failed' })
  })

  it('Event: a failure that outlasts the budget is thrown for Lambda to retry', async () => {
    const handler = await coldStart()
    ses.failNext('SendBounce', { status: 500, code: 'InternalFailure', message: 'boom' }, 10)
    const { error, lines } = await invokeBounce(handler, event('unknown-recipient', 'Event'))
    expect(error?.message).toMatch(/InternalFailure/)
    expect(ses.requestsFor('SendBounce')).toHaveLength(5)
    expect(lines.filter((line) => line.level === 'ERROR')).toHaveLength(1)
  })

  it('retries S3 503s, then fails open on RequestResponse: no bounce, CONTINUE', async () => {
    const handler = await coldStart({
      MAIL_DIR: '',
      MAIL_BUCKET: 'inbound-mail',
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${(slowS3.address() as AddressInfo).port}`,
    })
    const { result, lines } = await invokeBounce(handler, event('executable-attachment', 'RequestResponse'))
    expect(result).toEqual({ disposition: 'CONTINUE' })
    expect(slowS3Requests).toBe(5)
    expect(ses.requests).toHaveLength(0)
    const errors = lines.filter((line) => line.level === 'ERROR')
    expect(errors).toHaveLength(1)
    // The size check comes first: a HEAD, whose error response has no body to name the code.
    expect(JSON.stringify(errors[0])).toContain('HTTP 503')
  })

  it('retries S3 503s, then throws on Event so Lambda retries the message later', async () => {
    const handler = await coldStart({
      MAIL_DIR: '',
      MAIL_BUCKET: 'inbound-mail',
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${(slowS3.address() as AddressInfo).port}`,
    })
    const { error } = await invokeBounce(handler, event('executable-attachment', 'Event'))
    expect(error?.message).toMatch(/HTTP 503/)
    expect(ses.requests).toHaveLength(0)
  })

  it('does not call SendBounce for a message received more than 24 hours ago, and says why', async () => {
    const handler = await coldStart()
    const { result, lines } = await invokeBounce(
      handler,
      event('unknown-recipient', 'Event', new Date(Date.now() - 25 * 60 * 60 * 1000)),
    )
    expect(result).toEqual({ disposition: 'CONTINUE' })
    expect(ses.requests).toHaveLength(0)
    const line = outcomeLine(lines)
    expect(line.level).toBe('WARN')
    expect(line.message).toMatch(/24 hours/)
    expect(line.bounce).toMatchObject({ outcome: 'expired' })
  })
})
