import { z } from 'zod'
import { formatProblem, zodProblems } from '../config/problems.js'
import type { QueuedBounce } from '../domain/queued-bounce.js'

/**
 * The bounce queue's message body: JSON, dates as ISO 8601 strings, with a format tag so that a
 * sender never guesses at a body another version wrote (during a deploy both versions run).
 */
export const QUEUED_BOUNCE_FORMAT = 'ses-bouncer/queued-bounce@1'

/** Bodies larger than this are not parsed (SQS allows 256 KiB; a real bounce request is a few KB). */
const MAX_BODY_CHARS = 256 * 1024

const isoDate = z.iso.datetime({ offset: true }).transform((value) => new Date(value))
const text = z.string().min(1)
const extensionFields = z.array(z.object({ Name: text, Value: z.string() })).optional()

const SendBounceRequestSchema = z.object({
  OriginalMessageId: text,
  BounceSender: text,
  BounceSenderArn: text.optional(),
  Explanation: z.string().optional(),
  MessageDsn: z.object({
    ReportingMta: text,
    ArrivalDate: isoDate,
    ExtensionFields: extensionFields,
  }),
  BouncedRecipientInfoList: z
    .array(
      z.object({
        Recipient: text,
        RecipientDsnFields: z.object({
          Action: z.literal('failed'),
          Status: text,
          DiagnosticCode: z.string(),
          ExtensionFields: extensionFields,
        }),
      }),
    )
    .min(1),
})

const QueuedBounceSchema = z.object({
  format: z.literal(QUEUED_BOUNCE_FORMAT),
  receivedAt: isoDate,
  queuedAt: isoDate,
  envelopeSender: z.string(),
  request: SendBounceRequestSchema,
})

export function encodeQueuedBounce(bounce: QueuedBounce): string {
  // JSON.stringify writes a Date as its ISO string (ArrivalDate included).
  return JSON.stringify({ format: QUEUED_BOUNCE_FORMAT, ...bounce })
}

export type DecodedQueuedBounce =
  | { readonly ok: true; readonly bounce: QueuedBounce }
  | { readonly ok: false; readonly problems: readonly string[] }

/** A queue body → the bounce it carries, or every reason it cannot be sent. Never throws. */
export function decodeQueuedBounce(body: string): DecodedQueuedBounce {
  if (body.length > MAX_BODY_CHARS) return { ok: false, problems: [`body of ${body.length} characters`] }
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch (error) {
    return { ok: false, problems: [`not JSON: ${(error as Error).message}`] }
  }
  const parsed = QueuedBounceSchema.safeParse(json)
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error).map(formatProblem) }
  const { format: _format, request, ...rest } = parsed.data
  return { ok: true, bounce: { ...rest, request } }
}
