import { z } from 'zod'
import { formatPath } from '../config/problems.js'
import { BouncerError } from '../domain/errors.js'
import type { HeaderField, ReceivedMessage, VerdictStatus } from '../domain/message.js'
import { DMARC_POLICIES, VERDICT_STATUSES } from '../domain/message.js'
import { decodeHeaderValue, fromAddressesCapped, unfold } from './mime-text.js'

/*
 * The SES receipt event as the handler uses it, and nothing more. Real events carry fields and
 * shapes that no documentation or typing shows (events/README.md lists the captures studied:
 * `commonHeaders.sender` is a string, not the `string[]` Powertools and DefinitelyTyped declare;
 * records without `eventSource`; old events without `dmarcVerdict`), so every object is `loose`
 * and only the fields read below are checked. A field the handler does not read can never make
 * an event unusable, whatever its type. Field meanings: AWS, receiving-email-notifications-contents.
 */

const verdict = z.object({ status: z.enum(VERDICT_STATUSES) }).loose()
/** An absent verdict says nothing either way: the same as a scan that was not run. */
const optionalVerdict = verdict.optional().transform((value): VerdictStatus => value?.status ?? 'DISABLED')

const receipt = z
  .object({
    timestamp: z.iso.datetime({ offset: true }),
    /** Each one is checked on its own (domain/address.ts): one odd address must not hide the rest. */
    recipients: z.array(z.string()).min(1),
    spamVerdict: optionalVerdict,
    virusVerdict: optionalVerdict,
    spfVerdict: optionalVerdict,
    dkimVerdict: optionalVerdict,
    dmarcVerdict: optionalVerdict,
    /** A lowercase string, only on a DMARC failure (ses-facts §2.1). */
    dmarcPolicy: z.enum(DMARC_POLICIES).optional(),
    action: z
      .object({
        type: z.literal('Lambda', { error: 'expected "Lambda": this is not a Lambda action event' }),
        invocationType: z.enum(['Event', 'RequestResponse']),
      })
      .loose(),
  })
  .loose()

const header = z.object({ name: z.string(), value: z.string() }).loose()

const mail = z
  .object({
    /** Envelope MAIL FROM; empty for a null reverse-path. */
    source: z.string(),
    /** SendBounce's OriginalMessageId and the S3 key: anything else would address the wrong object. */
    messageId: z.string().regex(/^[A-Za-z0-9._-]{1,255}$/, 'expected an SES message id'),
    headersTruncated: z.boolean(),
    headers: z.array(header),
    /** Only `from` is read, and only when SES gives it; SES leaves out the fields a message lacks. */
    commonHeaders: z
      .object({ from: z.array(z.string()).optional() })
      .loose()
      .optional(),
  })
  .loose()

export const SesReceiptEventSchema = z
  .object({
    Records: z
      .array(z.object({ ses: z.object({ mail, receipt }).loose() }).loose())
      .length(1, 'expected exactly one record, as SES sends'),
  })
  .loose()

export type SesReceiptEvent = z.infer<typeof SesReceiptEventSchema>

/** The facts of a validated event in domain words. */
export async function receivedMessageFrom(event: SesReceiptEvent): Promise<ReceivedMessage> {
  const [record] = event.Records
  if (record === undefined) throw new Error('unreachable: the schema requires one record')
  const { mail: m, receipt: r } = record.ses
  const headers: HeaderField[] = await Promise.all(
    m.headers.map(async (field) => ({
      name: field.name.toLowerCase(),
      // SES passes some values with their folding CRLF still in (events/README.md)
      value: await decodeHeaderValue(unfold(field.value)),
    })),
  )
  const commonFrom = m.commonHeaders?.from
  const fromValues = commonFrom ?? headers.filter((field) => field.name === 'from').map((h) => h.value)
  const from = fromValues.map(fromAddressesCapped)
  // A From past the cap is left to the stored message, whose reading reports the cut to the rules.
  const fromKnown =
    (commonFrom !== undefined || fromValues.length > 0 || !m.headersTruncated) && !from.some((f) => f.cut)
  return {
    messageId: m.messageId,
    receivedAt: new Date(r.timestamp),
    envelopeSender: m.source,
    recipients: r.recipients,
    headers,
    headersTruncated: m.headersTruncated,
    ...(fromKnown ? { fromAddresses: from.flatMap((f) => f.addresses) } : {}),
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

/** An SES event the handler cannot use: let through unread (CONTINUE), never thrown back at SES. */
export class InvalidEventError extends BouncerError {
  constructor(
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(
      `Not a usable SES receipt event:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
      options,
    )
  }
}

/**
 * The problems of an event the parser middleware refused, each with its path. Never throws:
 * whatever the error looks like, the answer is a list of problems to log.
 */
export function invalidEvent(error: unknown): InvalidEventError {
  try {
    if (error instanceof Error && Array.isArray(error.cause)) {
      return invalidEventFrom(error.cause as StandardIssue[], error)
    }
    return new InvalidEventError([error instanceof Error ? error.message : String(error)], { cause: error })
  } catch {
    return new InvalidEventError(['the event could not be checked'], { cause: error })
  }
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
