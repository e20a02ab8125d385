import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { addressToken } from '../../src/runtime/log-addresses.js'
import { packageRules } from '../../src/runtime/package-rules.js'
import {
  type BounceHandler,
  coldStartBounceHandler,
  invokeBounce,
  outcomeLine,
} from '../support/bounce-handler.js'
import {
  EVENTS_DIR,
  expectedOutcomes,
  messageBytes,
  receiptCases,
  receiptEvent,
  type SesEvent,
} from '../support/events.js'
import { AN_ADDRESS, emittedMetrics, type LogLine } from '../support/lambda.js'
import { type S3Server, startS3Server } from '../support/s3-server.js'
import { type SesStub, startSesStub } from '../support/ses-stub.js'

const BUCKET = 'inbound-mail'
const PREFIX = 'inbound/'

let s3: S3Server
let ses: SesStub
/** events/bounce-rules.yml compiled as `serverless package` ships it (JSON, pattern files inside). */
let compiledRules: string

beforeAll(async () => {
  ;[s3, ses] = await Promise.all([startS3Server({ buckets: [BUCKET] }), startSesStub()])
  const packaged = await packageRules({ RULES_FILE: 'bounce-rules.yml', MAIL_BUCKET: BUCKET }, EVENTS_DIR)
  compiledRules = join(await mkdtemp(join(tmpdir(), 'compiled-rules-')), packaged.compiledName)
  await writeFile(compiledRules, packaged.text)
  await Promise.all(
    Object.values(expectedOutcomes).map(({ messageId }) =>
      s3.putObject(BUCKET, `${PREFIX}${messageId}`, messageBytes(messageId)),
    ),
  )
})

afterAll(async () => {
  await Promise.all([s3?.close(), ses?.close()])
})

afterEach(() => {
  vi.unstubAllEnvs()
  ses.reset()
})

const loadHandler = (env: Record<string, string> = {}, coldStartLines?: LogLine[]) =>
  coldStartBounceHandler(
    {
      MAIL_BUCKET: BUCKET,
      MAIL_PREFIX: PREFIX,
      AWS_ENDPOINT_URL_S3: s3.url,
      AWS_ENDPOINT_URL_SES: ses.url,
      ...env,
    },
    coldStartLines,
  )

async function invoke(handler: BounceHandler, event: SesEvent) {
  const { result, error, lines } = await invokeBounce(handler, event)
  if (error !== undefined) throw error
  return { result, lines }
}

const decisionLine = outcomeLine

const EVERY_PROBLEM =
  /bounceSender: expected an address[\s\S]*rules\[0\]\.when\.size\.over: expected a size like 10M/

describe('bounce handler through middy, against loopback S3 and SES', () => {
  it.each(
    receiptCases().flatMap((name) => [
      [name, 'as written'],
      [name, 'compiled'],
    ]),
  )('decides %s as expected (rules %s) and sends at most one SendBounce', async (name, rules) => {
    const handler = await loadHandler(rules === 'compiled' ? { RULES_FILE: compiledRules } : {})
    const expected = expectedOutcomes[name]
    if (expected === undefined) throw new Error(name)

    const { result, lines } = await invoke(handler, receiptEvent(name))

    expect(result).toEqual({ disposition: expected.disposition })
    if (expected.problems !== undefined) {
      expect(lines.find((line) => line.level === 'ERROR')?.problems).toEqual(expected.problems)
      expect(emittedMetrics(lines).EventsRejected).toBe(1)
      expect(ses.requests).toHaveLength(0)
      return
    }
    const line = decisionLine(lines)
    const recipients = line.recipients as {
      recipient: string
      action: string
      rule: string | null
      guard: string | null
    }[]
    expect(
      Object.fromEntries(
        recipients.map(({ recipient, action, rule, guard }) => [recipient, { action, rule, guard }]),
      ),
    ).toEqual(
      Object.fromEntries(
        Object.entries(expected.recipients).map(([recipient, { action, rule, guard }]) => [
          recipient,
          { action, rule, guard },
        ]),
      ),
    )

    const bounced = Object.entries(expected.recipients).filter(([, outcome]) => outcome.action === 'bounce')
    const sends = ses.requestsFor('SendBounce')
    expect(sends).toHaveLength(bounced.length === 0 ? 0 : 1)
    const [send] = sends
    if (send === undefined) return
    expect(send.params.OriginalMessageId).toBe(expected.messageId)
    bounced.forEach(([recipient, outcome], index) => {
      const member = `BouncedRecipientInfoList.member.${index + 1}`
      expect(send.params[`${member}.Recipient`]).toBe(recipient)
      expect(send.params[`${member}.RecipientDsnFields.Status`]).toBe(outcome.status)
    })
    expect(send.params[`BouncedRecipientInfoList.member.${bounced.length + 1}.Recipient`]).toBeUndefined()
    expect(line.bounce).toMatchObject({ outcome: 'sent', bounceMessageId: expect.any(String) })
  })

  it('sends the exact SendBounce request on the wire', async () => {
    const handler = await loadHandler()
    const receivedAt = new Date(Date.now() - 1_234)
    await invoke(handler, receiptEvent('partly-unknown', receivedAt))
    const [send] = ses.requestsFor('SendBounce')
    expect(send?.params).toEqual({
      Action: 'SendBounce',
      Version: '2010-12-01',
      OriginalMessageId: 'partly5wl3aesg519xq49x3isaw38p3ke2f5od2g',
      BounceSender: 'mailer-daemon@example.com',
      Explanation: 'Your message could not be delivered to one or more recipients.',
      'MessageDsn.ReportingMta': 'dns; mx.example.com',
      'MessageDsn.ArrivalDate': receivedAt.toISOString(),
      'MessageDsn.ExtensionFields.member.1.Name': 'X-Support-Contact',
      'MessageDsn.ExtensionFields.member.1.Value': 'postmaster@example.com',
      'BouncedRecipientInfoList.member.1.Recipient': 'ghost@example.com',
      'BouncedRecipientInfoList.member.1.RecipientDsnFields.Action': 'failed',
      'BouncedRecipientInfoList.member.1.RecipientDsnFields.Status': '5.1.1',
      'BouncedRecipientInfoList.member.1.RecipientDsnFields.DiagnosticCode':
        'smtp; 550 5.1.1 <ghost@example.com>: Recipient address rejected: User unknown',
      'BouncedRecipientInfoList.member.2.Recipient': 'Phantom@Example.com',
      'BouncedRecipientInfoList.member.2.RecipientDsnFields.Action': 'failed',
      'BouncedRecipientInfoList.member.2.RecipientDsnFields.Status': '5.1.1',
      'BouncedRecipientInfoList.member.2.RecipientDsnFields.DiagnosticCode':
        'smtp; 550 5.1.1 <Phantom@Example.com>: Recipient address rejected: User unknown',
    })
  })

  it('decides event-only rules without reading the stored message', async () => {
    const handler = await loadHandler({ MAIL_PREFIX: 'nothing-stored-here/' })
    const { result, lines } = await invoke(handler, receiptEvent('unknown-recipient'))
    expect(result).toEqual({ disposition: 'STOP_RULE_SET' })
    expect(decisionLine(lines).factsRead).toBe('event')
    expect(ses.requestsFor('SendBounce')).toHaveLength(1)
  })

  it('fails open when the stored message is missing: no bounce, CONTINUE, one error line', async () => {
    const handler = await loadHandler({ MAIL_PREFIX: 'nothing-stored-here/' })
    const { result, lines } = await invoke(handler, receiptEvent('executable-attachment'))
    expect(result).toEqual({ disposition: 'CONTINUE' })
    expect(ses.requestsFor('SendBounce')).toHaveLength(0)
    const errors = lines.filter((line) => line.level === 'ERROR')
    expect(errors).toHaveLength(1)
    expect(JSON.stringify(errors[0])).toContain(
      'nothing-stored-here/exeattach3hplc3pn3qj69gctgf1qcq26o0491bk',
    )
    expect(JSON.stringify(errors[0])).toMatch(/NoSuchKey|NotFound/)
  })

  it('logs a permanent MessageRejected once, without retrying, and lets the mail flow', async () => {
    const handler = await loadHandler()
    ses.failNext('SendBounce', {
      status: 400,
      code: 'MessageRejected',
      message: 'Email address is not verified.',
    })
    const { result, lines } = await invoke(handler, receiptEvent('unknown-recipient'))
    expect(result).toEqual({ disposition: 'CONTINUE' })
    expect(ses.requestsFor('SendBounce')).toHaveLength(1)
    const error = lines.find((line) => line.level === 'ERROR')
    expect(JSON.stringify(error)).toContain('MessageRejected')
    expect(decisionLine(lines).bounce).toMatchObject({ outcome: 'failed' })
  })

  it('in dry run never calls SendBounce, returns CONTINUE and logs the request it would send', async () => {
    const handler = await loadHandler({ DRY_RUN: 'true' })
    const { result, lines } = await invoke(handler, receiptEvent('unknown-recipient'))
    expect(result).toEqual({ disposition: 'CONTINUE' })
    expect(ses.requests).toHaveLength(0)
    expect(decisionLine(lines).bounce).toMatchObject({
      outcome: 'dry-run',
      wouldSend: {
        OriginalMessageId: 'unknownrcpt61wb2yk2wxlxvyiiujb1vqofbr9ru',
        BouncedRecipientInfoList: [{ Recipient: 'nobody@example.com' }],
      },
    })
  })

  it.each(['RequestResponse', 'Event'])(
    'lets a malformed %s event through: CONTINUE, one error line with every problem and its path, EventsRejected',
    async (invocationType) => {
      const handler = await loadHandler()
      const event = receiptEvent('unknown-recipient')
      delete event.Records[0].ses.mail.messageId
      event.Records[0].ses.receipt.recipients = []
      event.Records[0].ses.receipt.action.invocationType = invocationType
      const { result, error, lines } = await invokeBounce(handler, event)
      expect(error).toBeUndefined()
      expect(result).toEqual({ disposition: 'CONTINUE' })
      const errors = lines.filter((line) => line.level === 'ERROR')
      expect(errors).toHaveLength(1)
      expect(errors[0]?.problems).toEqual([
        'Records[0].ses.mail.messageId: Invalid input: expected string, received undefined',
        'Records[0].ses.receipt.recipients: Too small: expected array to have >=1 items',
      ])
      expect(emittedMetrics(lines).EventsRejected).toBe(1)
      expect(ses.requests).toHaveLength(0)
    },
  )

  it.each([
    ['null', null],
    ['an empty object', {}],
    ['an SNS notification', { Records: [{ EventSource: 'aws:sns', Sns: { Message: '{}' } }] }],
    ['two records', { Records: [{}, {}] }],
  ])('answers CONTINUE to %s, never throwing it back at SES', async (_name, event) => {
    const handler = await loadHandler()
    const { result, error, lines } = await invokeBounce(handler, event)
    expect(error).toBeUndefined()
    expect(result).toEqual({ disposition: 'CONTINUE' })
    expect(lines.filter((line) => line.level === 'ERROR')).toHaveLength(1)
    expect(emittedMetrics(lines).EventsRejected).toBe(1)
  })

  it('checks only what it reads: any other field may have any type', async () => {
    const handler = await loadHandler()
    const event = receiptEvent('unknown-recipient')
    const record = event.Records[0]
    delete record.eventSource
    record.eventVersion = { major: 2 }
    record.ses.mail.destination = 'nobody@example.com'
    record.ses.mail.timestamp = 17
    record.ses.mail.commonHeaders = { sender: ['x'], to: 'nobody@example.com', subject: null, date: 0 }
    record.ses.receipt.processingTimeMillis = 'slow'
    record.ses.receipt.action.functionArn = null
    record.ses.receipt.newVerdict = { status: 'SOMETHING' }
    const { result, lines } = await invoke(handler, event)
    expect(result).toEqual({ disposition: 'STOP_RULE_SET' })
    expect(decisionLine(lines).recipients).toMatchObject([
      { recipient: 'nobody@example.com', action: 'bounce' },
    ])
    expect(ses.requestsFor('SendBounce')).toHaveLength(1)
  })

  it('never bounces a recipient SES would never send, and names it in the decision line', async () => {
    const handler = await loadHandler()
    const { result, lines } = await invoke(handler, receiptEvent('unusable-recipients'))
    expect(result).toEqual({ disposition: 'CONTINUE' })
    const line = decisionLine(lines)
    expect(line.level).toBe('WARN')
    expect(line.recipientsNeverBounced).toEqual([
      { recipient: 'Nobody <nobody@example.com>', problem: 'a display name' },
      { recipient: '<ghost@example.com>', problem: 'angle brackets' },
      { recipient: 'invite@', problem: 'no domain' },
    ])
    const [send] = ses.requestsFor('SendBounce')
    expect(send?.params['BouncedRecipientInfoList.member.1.Recipient']).toBe('nobody@example.com')
    expect(send?.params['BouncedRecipientInfoList.member.2.Recipient']).toBeUndefined()
  })

  it('decides an event older than SendBounce allows, and sends nothing', async () => {
    const handler = await loadHandler()
    const event = JSON.parse(await readFile(join(EVENTS_DIR, 'very-old.json'), 'utf8'))
    const { result, lines } = await invoke(handler, event)
    expect(result).toEqual({ disposition: 'CONTINUE' })
    expect(decisionLine(lines).bounce).toEqual({ outcome: 'expired', receivedAt: '1970-01-01T00:00:00.000Z' })
    expect(ses.requests).toHaveLength(0)
  })

  it('with LOG_ADDRESSES=hash logs no address for any sample, yet bounces to the real ones', async () => {
    const key = 'bounce-test-key-0123456789abcdef0123'
    const handler = await loadHandler({ LOG_ADDRESSES: 'hash', LOG_ADDRESS_KEY: key })
    const lines: LogLine[] = []
    for (const name of receiptCases()) lines.push(...(await invokeBounce(handler, receiptEvent(name))).lines)
    expect(lines.length).toBeGreaterThan(receiptCases().length)
    for (const line of lines) expect(JSON.stringify(line)).not.toMatch(AN_ADDRESS)

    const sends = ses.requestsFor('SendBounce')
    expect(sends.map((send) => send.params['BouncedRecipientInfoList.member.1.Recipient'])).toContain(
      'nobody@example.com',
    )
    const unknown = lines.find((line) => line.messageId === expectedOutcomes['unknown-recipient']?.messageId)
    expect(unknown?.recipients).toMatchObject([{ recipient: addressToken('nobody@example.com', key) }])
  })

  it('refuses to start with LOG_ADDRESSES=hash and no key', async () => {
    await expect(loadHandler({ LOG_ADDRESSES: 'hash' })).rejects.toThrow(
      /LOG_ADDRESS_KEY: required with LOG_ADDRESSES=hash/,
    )
  })

  it('refuses to start on an invalid rules file, listing every problem', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'rules-'))
    const rulesFile = join(directory, 'bounce-rules.json')
    await writeFile(
      rulesFile,
      JSON.stringify({
        bounceSender: 'not-an-address',
        rules: [{ name: 'big', when: { size: { over: '10X' } }, bounce: { type: 'MessageTooLarge' } }],
      }),
    )
    await expect(loadHandler({ RULES_FILE: rulesFile })).rejects.toThrow(EVERY_PROBLEM)
  })

  it('with a YAML rules file (parser loaded on first use), fails every invocation with every problem', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'rules-'))
    const rulesFile = join(directory, 'bounce-rules.yml')
    await writeFile(
      rulesFile,
      'bounceSender: not-an-address\nrules:\n  - name: big\n    when: { size: { over: 10X } }\n    bounce: { type: MessageTooLarge }\n',
    )
    const handler = await loadHandler({ RULES_FILE: rulesFile })
    const refusals: unknown[] = []
    for (const attempt of [1, 2]) {
      const { error, lines } = await invokeBounce(handler, receiptEvent('unknown-recipient'))
      // YAML positions: the file an operator edits.
      expect(error?.message, `invocation ${attempt}`).toMatch(
        /bounceSender \(line 1, column 1\): expected an address[\s\S]*rules\[0\] "big" when\.size\.over \(line 4, column 21\): expected a size like 10M/,
      )
      refusals.push(...lines.filter((line) => line.message === 'refusing to start: invalid configuration'))
    }
    // Logged once, when the problem was found (at cold start, or while the first message waited).
    expect(refusals.length).toBeLessThanOrEqual(1)
    expect(ses.requests).toHaveLength(0)
  })

  it('warns in one line at cold start about rules that are valid but risky', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'rules-'))
    // JSON, as the function reads its rules compiled at package time: at cold start, at once.
    const rulesFile = join(directory, 'bounce-rules.json')
    await writeFile(
      rulesFile,
      JSON.stringify({
        bounceSender: 'mailer-daemon@example.com',
        rules: [
          { name: 'partners', when: { from: { in: ['*@partner.example'] } }, accept: true },
          { name: 'everything', bounce: { type: 'Undefined' } },
        ],
      }),
    )
    const lines: LogLine[] = []
    await loadHandler({ RULES_FILE: rulesFile }, lines)
    const warnings = lines.filter((line) => line.level === 'WARN' && Array.isArray(line.warnings))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({
      message: 'the rules are valid but 2 are risky',
      rules: rulesFile,
      warnings: [
        expect.stringMatching(/^rules\[0\] "partners": accepts on the From header alone/),
        expect.stringMatching(/^rules\[1\] "everything": bounces every message/),
      ],
    })
  })
})
