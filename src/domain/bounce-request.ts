import { diagnosticFor } from './bounce-spec.js'
import { isBounce, type RecipientDecision } from './decision.js'
import type { ReceivedMessage } from './message.js'

/** The SES SendBounce request, field for field (API reference: SendBounce), in plain data. */
export interface SendBounceRequest {
  readonly OriginalMessageId: string
  readonly BounceSender: string
  readonly BounceSenderArn?: string
  readonly Explanation?: string
  readonly MessageDsn: {
    readonly ReportingMta: string
    readonly ArrivalDate: Date
    readonly ExtensionFields?: readonly ExtensionField[]
  }
  readonly BouncedRecipientInfoList: readonly BouncedRecipient[]
}

export interface ExtensionField {
  readonly Name: string
  readonly Value: string
}

export interface BouncedRecipient {
  readonly Recipient: string
  readonly RecipientDsnFields: {
    readonly Action: 'failed'
    readonly Status: string
    readonly DiagnosticCode: string
    readonly ExtensionFields?: readonly ExtensionField[]
  }
}

export interface BounceSettings {
  readonly bounceSender: string
  readonly bounceSenderArn?: string
  /** The host named in Reporting-MTA (`dns; host`). */
  readonly reportingMta: string
  readonly explanation?: string
  /** Extra per-message DSN fields (MessageDsn.ExtensionFields). */
  readonly extensionFields?: readonly ExtensionField[]
}

/**
 * One request for every bounced recipient of the message. Recipients are the envelope addresses
 * exactly as SES gave them: SendBounce requires them to be recipients of the original message.
 * Explicit DSN fields rather than a BounceType, because SES does not document the code a
 * BounceType produces and the sender should see the exact one.
 */
export function buildBounceRequest(
  message: ReceivedMessage,
  decisions: readonly RecipientDecision[],
  settings: BounceSettings,
): SendBounceRequest | undefined {
  const bounced = decisions.filter(isBounce)
  if (bounced.length === 0) return undefined
  const explanation = joinDistinct(
    bounced.map((decision) => decision.bounce.explanation ?? settings.explanation),
  )
  return {
    OriginalMessageId: message.messageId,
    BounceSender: settings.bounceSender,
    ...(settings.bounceSenderArn === undefined ? {} : { BounceSenderArn: settings.bounceSenderArn }),
    ...(explanation === undefined ? {} : { Explanation: dsnText(explanation, EXPLANATION_LIMIT) }),
    MessageDsn: {
      ReportingMta: `dns; ${dsnText(settings.reportingMta, 255)}`,
      ArrivalDate: message.receivedAt,
      ...(settings.extensionFields === undefined || settings.extensionFields.length === 0
        ? {}
        : { ExtensionFields: cleanExtensionFields(settings.extensionFields) }),
    },
    BouncedRecipientInfoList: bounced.map(({ recipient, bounce }) => ({
      Recipient: recipient,
      RecipientDsnFields: {
        Action: 'failed',
        Status: bounce.status,
        DiagnosticCode: dsnText(diagnosticFor(bounce, recipient), DIAGNOSTIC_LIMIT),
      },
    })),
  }
}

/** SendBounce's limits for ExtensionField (API reference: ExtensionField). */
export const EXTENSION_FIELD_NAME = /^[A-Za-z0-9-]{1,50}$/
export const EXTENSION_VALUE_LIMIT = 2048

/** Fields SES would refuse are left out rather than costing the whole bounce. */
function cleanExtensionFields(fields: readonly ExtensionField[]): ExtensionField[] {
  return fields
    .filter((field) => EXTENSION_FIELD_NAME.test(field.Name))
    .map((field) => ({ Name: field.Name, Value: dsnText(field.Value, EXTENSION_VALUE_LIMIT) }))
}

/** SES documents no maximum for Explanation; a bounded one keeps a misconfigured rule from mailing a novel. */
export const EXPLANATION_LIMIT = 2048
/** RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets. */
export const DIAGNOSTIC_LIMIT = 512

/**
 * DSN fields become header fields of the report (RFC 3464 §2): a CR or LF would let a rule or a
 * recipient address inject headers, and other control characters corrupt the report.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g

/** Cleaned text of at most `limit` UTF-8 octets, cut between characters, never inside one. */
export function dsnText(text: string, limit: number): string {
  const clean = text.replace(CONTROL_CHARACTERS, ' ').replace(/ {2,}/g, ' ').trim()
  let octets = 0
  let end = 0
  for (const char of clean) {
    octets += utf8Length(char.codePointAt(0) ?? 0)
    if (octets > limit) return clean.slice(0, end).trimEnd()
    end += char.length
  }
  return clean
}

function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1
  if (codePoint < 0x800) return 2
  return codePoint < 0x10000 ? 3 : 4
}

function joinDistinct(texts: readonly (string | undefined)[]): string | undefined {
  const distinct = [...new Set(texts.filter((text): text is string => text !== undefined && text !== ''))]
  return distinct.length === 0 ? undefined : distinct.join(' ')
}
