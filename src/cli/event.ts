import { open, readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { s3Client } from '../adapters/s3-client.js'
import { SesReceiptEventSchema } from '../adapters/ses-event.js'
import { storeS3Message } from '../adapters/stored-messages.js'
import type { InvocationType, MessageContent, ReceivedMessage } from '../domain/message.js'
import { type FactOptions, factOverrides, NO_RECIPIENT, readMessage } from './check.js'
import { unreadable } from './input.js'
import type { Output } from './output.js'
import { UsageError } from './usage.js'

export interface EventOptions extends FactOptions {
  readonly message: string
  readonly messageId?: string
  readonly invocation: InvocationType
  /** `s3://bucket/prefix`: store the message there, as the receipt rule's S3 action would. */
  readonly store?: string
}

/**
 * Not part of what SES sends: tells `serverless invoke local` (serverless/invoke-local.cjs) which
 * file holds the message, so the event runs through the real handler with no other setting. The
 * handler's schema ignores it.
 */
export const LOCAL_MESSAGE_KEY = 'sesBouncerLocal'

/** SES puts at most 10 KB of header fields in the event and says so (mail.headersTruncated). */
const EVENT_HEADER_BYTES = 10 * 1024
/** SES keeps 10 KB of them: the first 256 KB of the message always hold at least that. */
const HEAD_READ_LIMIT = 256 * 1024
const MESSAGE_ID = /^[A-Za-z0-9._-]{1,255}$/

/**
 * `ses-bouncer event`: the SES receipt event for a message of one's own, received now. Its facts
 * are recovered from the message as `check` recovers them (SES's Return-Path, Received,
 * X-SES-*-Verdict, Received-SPF and Authentication-Results headers), and the command line's
 * --recipient, --sender, --verdict and --dmarc-policy replace them.
 */
export async function sesEvent(
  options: EventOptions,
  env: Readonly<Record<string, string | undefined>>,
  output: Output,
): Promise<number> {
  const overrides = factOverrides(options)
  const { message, content } = await readMessage(options.message, {
    ...overrides,
    receivedAt: new Date(),
  })
  const messageId = options.messageId ?? message.messageId
  if (!MESSAGE_ID.test(messageId)) {
    throw new UsageError(
      `"${messageId}" (from the file name) is not an SES message id (letters, digits, . _ -): pass --message-id ID`,
    )
  }
  if (message.recipients.length === 0) {
    output.note(`ses-bouncer event: ${options.message}: ${NO_RECIPIENT}`)
    return 1
  }
  if (message.envelopeSender === '') {
    output.note(
      `ses-bouncer event: ${options.message} has no Return-Path: the envelope sender is empty, so the safety guard drops every bounce (nullSender); give --sender ADDR`,
    )
  }
  const { headers, truncated } = await eventHeaders(options.message)
  const event: Record<string, unknown> = receiptEvent(
    { ...message, messageId, invocationType: options.invocation },
    content,
    headers,
    truncated,
    env.AWS_REGION ?? 'us-east-1',
  )
  const parsed = SesReceiptEventSchema.safeParse(event)
  if (!parsed.success)
    throw new Error(`the event built is not one the handler accepts: ${parsed.error.message}`)

  if (options.store === undefined) {
    event[LOCAL_MESSAGE_KEY] = { messageFile: resolve(options.message) }
  } else {
    const location = /^s3:\/\/([^/]+)\/?(.*)$/.exec(options.store)
    if (location === null) throw new UsageError(`--store ${options.store}: expected s3://bucket/prefix`)
    const [, bucket = '', prefix = ''] = location
    await storeS3Message(
      s3Client(env.AWS_REGION ?? 'us-east-1', env),
      bucket,
      `${prefix}${messageId}`,
      await readFile(options.message),
    )
    output.note(
      `stored as s3://${bucket}/${prefix}${messageId}; run the event with -e MAIL_DIR= -e MAIL_BUCKET=${bucket} -e MAIL_PREFIX=${prefix}`,
    )
  }
  output.data(JSON.stringify(event, null, 2))
  return 0
}

function receiptEvent(
  message: ReceivedMessage,
  content: MessageContent,
  headers: readonly { name: string; value: string }[],
  headersTruncated: boolean,
  region: string,
): Record<string, unknown> {
  const first = (name: string) => content.headers.find((header) => header.name === name)?.value
  const timestamp = message.receivedAt.toISOString()
  const addresses = (name: string) =>
    content.headers.filter((header) => header.name === name).flatMap((header) => addressList(header.value))
  const to = addresses('to')
  const cc = addresses('cc')
  const commonHeaders = {
    returnPath: message.envelopeSender,
    ...(content.fromAddresses.length === 0 ? {} : { from: [...content.fromAddresses] }),
    ...optional('date', first('date')),
    ...(to.length === 0 ? {} : { to }),
    ...(cc.length === 0 ? {} : { cc }),
    ...optional('messageId', first('message-id')),
    ...optional('subject', first('subject')),
  }
  const verdict = (status: string) => ({ status })
  return {
    Records: [
      {
        eventSource: 'aws:ses',
        eventVersion: '1.0',
        ses: {
          mail: {
            timestamp,
            source: message.envelopeSender,
            messageId: message.messageId,
            destination: [...new Set([...to, ...cc])],
            headersTruncated,
            headers,
            commonHeaders,
          },
          receipt: {
            timestamp,
            processingTimeMillis: 0,
            recipients: [...message.recipients],
            spamVerdict: verdict(message.verdicts.spam),
            virusVerdict: verdict(message.verdicts.virus),
            spfVerdict: verdict(message.verdicts.spf),
            dkimVerdict: verdict(message.verdicts.dkim),
            dmarcVerdict: verdict(message.verdicts.dmarc),
            ...optional('dmarcPolicy', message.dmarcPolicy),
            action: {
              type: 'Lambda',
              invocationType: message.invocationType,
              functionArn: `arn:aws:lambda:${region}:123456789012:function:ses-bouncer-local-bounce`,
            },
          },
        },
      },
    ],
  }
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>)
}

/** The bare addresses of a To or Cc value; the handler reads nothing else of them. */
function addressList(value: string): string[] {
  return [...value.matchAll(/[^\s<>,;:"]+@[^\s<>,;:"]+/g)].map(([address]) => address)
}

/**
 * The message's header fields as SES puts them in the event: in order, unfolded, values as
 * written (encoded words are decoded by the handler, not here), and only as many as fit in 10 KB.
 */
async function eventHeaders(
  path: string,
): Promise<{ headers: { name: string; value: string }[]; truncated: boolean }> {
  let head: Buffer
  try {
    const file = await open(path, 'r')
    try {
      const { buffer, bytesRead } = await file.read(Buffer.alloc(HEAD_READ_LIMIT), 0, HEAD_READ_LIMIT, 0)
      head = buffer.subarray(0, bytesRead)
    } finally {
      await file.close()
    }
  } catch (error) {
    throw unreadable(path, error)
  }
  const text = head.toString('utf8')
  const end = /\r?\n\r?\n/.exec(text)
  const block = end === null ? text : text.slice(0, end.index)
  const fields = block.split(/\r?\n(?![ \t])/).filter((field) => field.includes(':'))
  const headers: { name: string; value: string }[] = []
  let bytes = 0
  for (const field of fields) {
    bytes += Buffer.byteLength(`${field}\r\n`)
    if (bytes > EVENT_HEADER_BYTES) return { headers, truncated: true }
    const colon = field.indexOf(':')
    headers.push({
      name: field.slice(0, colon).trim(),
      value: field
        .slice(colon + 1)
        .replace(/\r?\n/g, '')
        .trim(),
    })
  }
  return { headers, truncated: false }
}
