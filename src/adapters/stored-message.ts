import type {
  DmarcPolicy,
  HeaderField,
  MessageContent,
  ReceivedMessage,
  VerdictName,
  VerdictStatus,
  Verdicts,
} from '../domain/message.js'
import { addressesOf } from './mime-text.js'

export interface StoredMessageOverrides {
  readonly envelopeSender?: string
  readonly recipients?: readonly string[]
  readonly verdicts?: Partial<Verdicts>
  readonly dmarcPolicy?: DmarcPolicy
  readonly receivedAt?: Date
}

/**
 * The facts an SES receipt event would have carried, recovered from the message SES stored in S3
 * (for `ses-bouncer check` and `replay`, where no event exists). SES prepends Return-Path (the
 * envelope sender), its Received line (`for <recipient>` when there was one), X-SES-Spam-Verdict,
 * X-SES-Virus-Verdict, Received-SPF and Authentication-Results (AWS: receiving-email-concepts).
 * Envelope recipients are not all in the message: the Received line's single `for`, else the
 * To and Cc addresses, unless the caller names them. The receipt time is the Received line's.
 */
export function receivedMessageFromStored(
  messageId: string,
  content: MessageContent,
  overrides: StoredMessageOverrides = {},
): ReceivedMessage {
  const first = (name: string) => content.headers.find((header) => header.name === name)?.value
  const sender = overrides.envelopeSender ?? addressesOf(first('return-path') ?? '')[0] ?? ''
  return {
    messageId,
    receivedAt: overrides.receivedAt ?? receivedDate(first('received')) ?? new Date(),
    envelopeSender: sender,
    recipients: overrides.recipients ?? recipientsOf(content.headers),
    headers: content.headers,
    headersTruncated: false,
    fromAddresses: content.fromAddresses,
    verdicts: { ...storedVerdicts(first), ...overrides.verdicts },
    ...(overrides.dmarcPolicy === undefined ? {} : { dmarcPolicy: overrides.dmarcPolicy }),
    invocationType: 'RequestResponse',
  }
}

/** RFC 5321 §4.4: the date-time after the last `;` of SES's own Received line is when it took the mail. */
function receivedDate(received: string | undefined): Date | undefined {
  const stamp = received
    ?.slice(received.lastIndexOf(';') + 1)
    .replace(/\([^)]*\)/g, '')
    .trim()
  const time = stamp === undefined || stamp === '' ? Number.NaN : Date.parse(stamp)
  return Number.isNaN(time) ? undefined : new Date(time)
}

function recipientsOf(headers: readonly HeaderField[]): string[] {
  const received = headers.find((header) => header.name === 'received')?.value ?? ''
  // '@' in neither class: with it, a long `for a@a@a@…` without ';' backtracks quadratically.
  const single = /\bfor\s+<?([^\s<>;@]+@[^\s<>;@]+)>?\s*;/i.exec(received)?.[1]
  if (single !== undefined) return [single]
  const addresses = headers
    .filter((header) => header.name === 'to' || header.name === 'cc')
    .flatMap((header) => addressesOf(header.value))
  return [...new Set(addresses)]
}

const SPF_RESULTS: Record<string, VerdictStatus> = {
  pass: 'PASS',
  fail: 'FAIL',
  softfail: 'GRAY',
  neutral: 'GRAY',
  none: 'GRAY',
  temperror: 'PROCESSING_FAILED',
  permerror: 'PROCESSING_FAILED',
}

function storedVerdicts(first: (name: string) => string | undefined): Verdicts {
  const sesVerdict = (name: string): VerdictStatus => {
    const value = first(name)?.trim().toUpperCase()
    return value === 'PASS' || value === 'FAIL' || value === 'GRAY' || value === 'PROCESSING_FAILED'
      ? value
      : 'DISABLED'
  }
  const authentication = first('authentication-results') ?? ''
  const authResult = (method: VerdictName): VerdictStatus => {
    const result = new RegExp(`\\b${method}=([a-z]+)`, 'i').exec(authentication)?.[1]?.toLowerCase()
    return result === undefined ? 'DISABLED' : (SPF_RESULTS[result] ?? 'GRAY')
  }
  const spf = first('received-spf')
    ?.trim()
    .split(/[\s(;]/, 1)[0]
    ?.toLowerCase()
  return {
    spam: sesVerdict('x-ses-spam-verdict'),
    virus: sesVerdict('x-ses-virus-verdict'),
    spf: spf === undefined ? authResult('spf') : (SPF_RESULTS[spf] ?? 'GRAY'),
    dkim: authResult('dkim'),
    dmarc: authResult('dmarc'),
  }
}
