import { SesSchema } from '@aws-lambda-powertools/parser/schemas/ses'
import { z } from 'zod'
import { formatPath } from '../config/problems.js'
import { BouncerError } from '../domain/errors.js'
import type { HeaderField, ReceivedMessage, VerdictStatus } from '../domain/message.js'
import { DMARC_POLICIES, VERDICT_STATUSES } from '../domain/message.js'
import { addressesOf, decodeHeaderValue } from './mime-text.js'

/**
 * Powertools' SesSchema, widened to what SES really sends (AWS: receiving-email-notifications-
 * contents): `dmarcPolicy` only on a DMARC failure, `RequestResponse` invocations, verdicts that
 * may be DISABLED, and common headers only when the mail has them. One record per event.
 */
const upstreamRecord = SesSchema.shape.Records.element
const upstreamMail = upstreamRecord.shape.ses.shape.mail
const upstreamReceipt = upstreamRecord.shape.ses.shape.receipt

const verdict = z.object({ status: z.enum(VERDICT_STATUSES) })
/** An absent verdict says nothing either way: the same as a scan that was not run. */
const optionalVerdict = verdict
  .optional()
  .transform((value) => value?.status ?? ('DISABLED' as VerdictStatus))

const receipt = upstreamReceipt.extend({
  timestamp: z.iso.datetime({ offset: true }),
  processingTimeMillis: z.number().int().nonnegative(),
  recipients: z.array(z.string().min(1)).min(1),
  spamVerdict: optionalVerdict,
  virusVerdict: optionalVerdict,
  spfVerdict: optionalVerdict,
  dkimVerdict: optionalVerdict,
  dmarcVerdict: optionalVerdict,
  dmarcPolicy: z.enum(DMARC_POLICIES).optional(),
  action: z.object({
    type: z.literal('Lambda'),
    invocationType: z.enum(['Event', 'RequestResponse']),
    functionArn: z.string(),
    topicArn: z.string().optional(),
  }),
})

const mail = upstreamMail.extend({
  timestamp: z.iso.datetime({ offset: true }),
  messageId: z.string().regex(/^[A-Za-z0-9._-]{1,255}$/, 'expected an SES message id'),
  commonHeaders: upstreamMail.shape.commonHeaders.partial().loose(),
})

export const SesReceiptEventSchema = SesSchema.extend({
  Records: z
    .array(upstreamRecord.extend({ ses: z.object({ mail, receipt }) }))
    .length(1, 'expected exactly one record, as SES sends'),
})

export type SesReceiptEvent = z.infer<typeof SesReceiptEventSchema>

/** The facts of a validated event in domain words. */
export async function receivedMessageFrom(event: SesReceiptEvent): Promise<ReceivedMessage> {
  const [record] = event.Records
  if (record === undefined) throw new Error('unreachable: the schema requires one record')
  const { mail: m, receipt: r } = record.ses
  const headers: HeaderField[] = await Promise.all(
    m.headers.map(async (header) => ({
      name: header.name.toLowerCase(),
      value: await decodeHeaderValue(header.value),
    })),
  )
  const fromValues =
    m.commonHeaders.from ?? headers.filter((header) => header.name === 'from').map((h) => h.value)
  const fromKnown = m.commonHeaders.from !== undefined || fromValues.length > 0 || !m.headersTruncated
  return {
    messageId: m.messageId,
    receivedAt: new Date(r.timestamp),
    envelopeSender: m.source,
    recipients: r.recipients,
    headers,
    headersTruncated: m.headersTruncated,
    ...(fromKnown ? { fromAddresses: fromValues.flatMap(addressesOf) } : {}),
    verdicts: {
      spam: r.spamVerdict,
      virus: r.virusVerdict,
      spf: r.spfVerdict,
      dkim: r.dkimVerdict,
      dmarc: r.dmarcVerdict,
    },
    ...(r.dmarcPolicy === undefined ? {} : { dmarcPolicy: r.dmarcPolicy }),
    invocationType: r.action.invocationType,
  }
}

/** A malformed SES event: rejected before anything is read or sent. */
export class InvalidEventError extends BouncerError {
  constructor(
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(
      `Not a valid SES receipt event:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
      options,
    )
  }
}

/** The schema's issues, each with its path: Powertools' ParseError carries them as its cause. */
export function invalidEvent(error: Error): InvalidEventError {
  if (!Array.isArray(error.cause)) return new InvalidEventError([error.message], { cause: error })
  return invalidEventFrom(error.cause as StandardIssue[], error)
}

/** The schema's issues, each with its path (`Records[0].ses.mail.messageId: …`). */
export function invalidEventFrom(issues: readonly StandardIssue[], cause?: unknown): InvalidEventError {
  const problems = issues.map(
    (issue) =>
      `${formatPath((issue.path ?? []).map((key) => (typeof key === 'object' ? key.key : key))) || '(event)'}: ${issue.message}`,
  )
  return new InvalidEventError(problems, { cause })
}

/** Standard Schema's issue shape (https://standardschema.dev), which zod produces. */
interface StandardIssue {
  readonly message: string
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[]
}
