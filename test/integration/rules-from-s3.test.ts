import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { coldStartBounceHandler, invokeBounce, outcomeLine } from '../support/bounce-handler.js'
import { EVENTS_DIR, receiptEvent } from '../support/events.js'
import { type S3Server, startS3Server } from '../support/s3-server.js'
import { type SesStub, startSesStub } from '../support/ses-stub.js'

const BUCKET = 'bouncer-config'
let s3: S3Server
let ses: SesStub
let sampleRules: string

beforeAll(async () => {
  ;[s3, ses] = await Promise.all([startS3Server({ buckets: [BUCKET] }), startSesStub()])
  sampleRules = await readFile(join(EVENTS_DIR, 'bounce-rules.yml'), 'utf8')
})

afterAll(async () => {
  await Promise.all([s3?.close(), ses?.close()])
})

afterEach(() => {
  vi.unstubAllEnvs()
  ses.reset()
})

async function publish(prefix: string, rules: string, mailboxes: string): Promise<void> {
  await s3.putObject(BUCKET, `${prefix}/bounce-rules.yml`, Buffer.from(rules))
  await s3.putObject(BUCKET, `${prefix}/mailboxes.txt`, Buffer.from(mailboxes))
  await s3.putObject(
    BUCKET,
    `${prefix}/blocked-senders.txt`,
    await readFile(join(EVENTS_DIR, 'blocked-senders.txt')),
  )
}

const coldStart = (prefix: string) =>
  coldStartBounceHandler({
    RULES_FILE: '',
    RULES_S3_URI: `s3://${BUCKET}/${prefix}/bounce-rules.yml`,
    RULES_REFRESH_SECONDS: '1',
    MAIL_DIR: EVENTS_DIR,
    AWS_ENDPOINT_URL_S3: s3.url,
    AWS_ENDPOINT_URL_SES: ses.url,
  })

const decisionOf = (lines: Parameters<typeof outcomeLine>[0]) =>
  (outcomeLine(lines).recipients as { action: string }[]).map((recipient) => recipient.action)

describe('rules from S3 (RULES_S3_URI)', () => {
  it('loads the rules and their lists from beside the key, and picks up a new version', async () => {
    await publish('v1', sampleRules, 'alice@example.com\n')
    const handler = await coldStart('v1')

    const first = await invokeBounce(handler, receiptEvent('unknown-recipient'))
    expect(decisionOf(first.lines)).toEqual(['bounce'])
    expect(first.lines.some((line) => line.message === 'rules loaded')).toBe(true)

    const cached = await invokeBounce(handler, receiptEvent('unknown-recipient'))
    expect(cached.lines.some((line) => line.message === 'rules loaded')).toBe(false)

    // Past the refresh interval, nothing changed: conditional GETs answer 304 and nothing reloads.
    await sleep(1_100)
    const unchanged = await invokeBounce(handler, receiptEvent('unknown-recipient'))
    expect(unchanged.lines.some((line) => line.message === 'rules loaded')).toBe(false)
    expect(unchanged.lines.some((line) => line.level === 'ERROR')).toBe(false)

    await s3.putObject(BUCKET, 'v1/mailboxes.txt', Buffer.from('alice@example.com\nnobody@example.com\n'))
    await sleep(1_100)
    const updated = await invokeBounce(handler, receiptEvent('unknown-recipient'))
    expect(updated.lines.some((line) => line.message === 'rules loaded')).toBe(true)
    expect(decisionOf(updated.lines)).toEqual(['accept'])
  })

  it('keeps the last good rules when a new version is invalid, and says so', async () => {
    await publish('v2', sampleRules, 'alice@example.com\n')
    const handler = await coldStart('v2')
    expect(decisionOf((await invokeBounce(handler, receiptEvent('unknown-recipient'))).lines)).toEqual([
      'bounce',
    ])

    await s3.putObject(
      BUCKET,
      'v2/bounce-rules.yml',
      Buffer.from('rules:\n  - name: broken\n    drop: maybe\n'),
    )
    await sleep(1_100)
    const after = await invokeBounce(handler, receiptEvent('unknown-recipient'))
    expect(after.error).toBeUndefined()
    expect(decisionOf(after.lines)).toEqual(['bounce'])
    const error = after.lines.find((line) => line.level === 'ERROR')
    expect(error?.message).toBe('new rules not used; keeping the last good rules')
    expect(JSON.stringify(error)).toContain('rules[0].drop')
  })

  it('refuses to run when the first load fails, naming the object', async () => {
    const handler = await coldStart('missing')
    const { error } = await invokeBounce(handler, receiptEvent('unknown-recipient'))
    expect(error?.message).toMatch(/s3:\/\/bouncer-config\/missing\/bounce-rules\.yml/)
    expect(ses.requests).toHaveLength(0)
  })
})
