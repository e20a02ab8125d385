/** What is known about one received message: first from the SES event, then, when a rule needs
 *  it, from the stored MIME. */

export const VERDICT_STATUSES = ['PASS', 'FAIL', 'GRAY', 'PROCESSING_FAILED', 'DISABLED'] as const
export type VerdictStatus = (typeof VERDICT_STATUSES)[number]

export const VERDICT_NAMES = ['spam', 'virus', 'spf', 'dkim', 'dmarc'] as const
export type VerdictName = (typeof VERDICT_NAMES)[number]
export type Verdicts = Readonly<Record<VerdictName, VerdictStatus>>

export const DMARC_POLICIES = ['none', 'quarantine', 'reject'] as const
export type DmarcPolicy = (typeof DMARC_POLICIES)[number]

export type InvocationType = 'Event' | 'RequestResponse'

/** A header field with its name lower-cased and its value unfolded and decoded. */
export interface HeaderField {
  readonly name: string
  readonly value: string
}

/** The facts the SES receipt event carries; no I/O is needed for these. */
export interface ReceivedMessage {
  /** The SES message id: SendBounce's OriginalMessageId and the S3 object key. */
  readonly messageId: string
  readonly receivedAt: Date
  /** Envelope MAIL FROM, as SES reports it (`mail.source`). */
  readonly envelopeSender: string
  /** Envelope RCPT TO matched by the receipt rule (`receipt.recipients`): the only addresses ever bounced. */
  readonly recipients: readonly string[]
  readonly headers: readonly HeaderField[]
  /** SES cut the header list at 10 KB: a header missing from `headers` may still exist. */
  readonly headersTruncated: boolean
  /** Addresses of the From header; `undefined` when the event does not say (truncated headers). */
  readonly fromAddresses?: readonly string[]
  readonly verdicts: Verdicts
  readonly dmarcPolicy?: DmarcPolicy
  readonly invocationType: InvocationType
}

export interface AttachmentInfo {
  readonly filename?: string
  readonly contentType: string
  readonly sizeBytes: number
}

/** Facts that need the stored message. */
export interface MessageContent {
  readonly sizeBytes: number
  readonly headers: readonly HeaderField[]
  readonly fromAddresses: readonly string[]
  readonly attachments: readonly AttachmentInfo[]
  /** Set when a limit left part of the message unread or undecoded: the facts are what was seen. */
  readonly cutOff?: CutOff
}

/**
 * What a parsing limit kept from the facts. What was seen is exact; what was not may hold anything,
 * so a rule that what was seen does not settle stays unsettled, never false.
 */
export interface CutOff {
  /** The limits reached, as the log names them (`MIME nesting deeper than 100 levels`). */
  readonly limits: readonly string[]
  /** The MIME structure was not read to the end: attachments may follow those listed. */
  readonly attachments: boolean
  /** Top-level header fields were not all read, or not all decoded. */
  readonly headers: boolean
  /** Addresses of the From header were not all read. */
  readonly from: boolean
}

export interface MessageFacts {
  readonly message: ReceivedMessage
  /** Known without parsing when the store reports it (S3 HeadObject); `content` implies it. */
  readonly sizeBytes?: number
  readonly content?: MessageContent
}

/** Every value of a header (any occurrence), or `undefined` when the answer needs the stored message. */
export function headerValues(facts: MessageFacts, name: string): readonly string[] | undefined {
  const wanted = name.toLowerCase()
  const source = facts.content?.headers ?? facts.message.headers
  const values = source.filter((header) => header.name === wanted).map((header) => header.value)
  if (values.length === 0 && facts.content === undefined && facts.message.headersTruncated) return undefined
  return values
}

export function fromAddresses(facts: MessageFacts): readonly string[] | undefined {
  return facts.content?.fromAddresses ?? facts.message.fromAddresses
}

/** Whether a header missing from the facts may still exist: a limit cut the stored headers. */
export function headersCutOff(facts: MessageFacts): boolean {
  return facts.content?.cutOff?.headers === true
}
