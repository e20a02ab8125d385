import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { coldStartBounceHandler, invokeBounce, outcomeLine } from '../support/bounce-handler.js'
import { EVENTS_DIR, receiptEvent } from '../support/events.js'
import { type SesStub, startSesStub } from '../support/ses-stub.js'

const ENTRIES = 100_000
let ses: SesStub
let directory: string

beforeAll(async () => {
  ses = await startSesStub()
  directory = await mkdtemp(join(tmpdir(), 'large-list-'))
  const mailboxes = Array.from({ length: ENTRIES }, (_, index) => `user${index}@example.com`)
  mailboxes[ENTRIES - 1] = 'alice@example.com'
  await writeFile(join(directory, 'mailboxes.txt'), `${mailboxes.join('\n')}\n`)
  await writeFile(
    join(directory, 'bounce-rules.yml'),
    [
      'bounceSender: mailer-daemon@example.com',
      'rules:',
      '  - name: unknown-recipient',
      '    when: { recipient: { notInFile: mailboxes.txt } }',
      '    bounce: { type: DoesNotExist }',
      '',
    ].join('\n'),
  )
})

afterAll(async () => {
  await ses?.close()
  await rm(directory, { recursive: true, force: true })
})

afterEach(() => {
  vi.unstubAllEnvs()
  ses.reset()
})

describe('a 100,000-entry recipient list', () => {
  it('is read once per cold start, not per message', async () => {
    const handler = await coldStartBounceHandler({
      RULES_FILE: join(directory, 'bounce-rules.yml'),
      MAIL_DIR: EVENTS_DIR,
      AWS_ENDPOINT_URL_SES: ses.url,
    })
    const known = await invokeBounce(handler, receiptEvent('accepted'))
    expect(known.result).toEqual({ disposition: 'CONTINUE' })
    // Were the list read per message, the next invocation would fail to find it. (A YAML rules
    // file is read when its parser has loaded, by the first message at the latest.)
    await rm(join(directory, 'mailboxes.txt'))
    const unknown = await invokeBounce(handler, receiptEvent('unknown-recipient'))
    expect(unknown.result).toEqual({ disposition: 'STOP_RULE_SET' })
    expect(outcomeLine(unknown.lines).recipients).toEqual([
      {
        recipient: 'nobody@example.com',
        action: 'bounce',
        rule: 'unknown-recipient',
        status: '5.1.1',
        guard: null,
      },
    ])
    expect(ses.requestsFor('SendBounce')).toHaveLength(1)
  })
})
