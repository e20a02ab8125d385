/** What a bounce says about one recipient, with RFC 3463 status codes. */

export const BOUNCE_TYPES = [
  'DoesNotExist',
  'MessageTooLarge',
  'ExceededQuota',
  'ContentRejected',
  'Undefined',
  'TemporaryFailure',
] as const
export type BounceType = (typeof BOUNCE_TYPES)[number]

export interface BounceSpec {
  readonly type: BounceType
  /** RFC 3463 enhanced status code, e.g. `5.1.1`. */
  readonly status: string
  /** RFC 3464 Diagnostic-Code; `{recipient}` is replaced by the bounced address. */
  readonly diagnostic: string
  readonly explanation?: string
}

interface BounceDefault {
  readonly status: string
  readonly replyCode: number
  readonly text: string
}

/**
 * SendBounce does not document which code SES emits for a BounceType, so ses-bouncer always sends
 * explicit RecipientDsnFields. Codes follow the console's Bounce-action templates and RFC 3463,
 * except ContentRejected, where RFC 3463 §3.8's X.7.1 ("delivery not authorized, message refused")
 * is the right code rather than the templates' 500 5.6.1 ("media not supported").
 */
export const BOUNCE_DEFAULTS: Readonly<Record<BounceType, BounceDefault>> = {
  DoesNotExist: {
    status: '5.1.1',
    replyCode: 550,
    text: '<{recipient}>: Recipient address rejected: User unknown',
  },
  MessageTooLarge: {
    status: '5.3.4',
    replyCode: 552,
    text: 'Message size exceeds fixed maximum message size',
  },
  ExceededQuota: { status: '5.2.2', replyCode: 552, text: '<{recipient}>: Mailbox full' },
  ContentRejected: { status: '5.7.1', replyCode: 550, text: 'Message content rejected' },
  Undefined: { status: '5.0.0', replyCode: 554, text: 'Delivery failed' },
  TemporaryFailure: { status: '4.0.0', replyCode: 450, text: 'Temporary failure, please try again later' },
}

/** RFC 3463 §2: class 4 or 5 for a failure; subject and detail are 1–3 digits without leading zeros. */
export const FAILURE_STATUS = /^[45]\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/

export function bounceSpec(input: {
  type: BounceType
  status?: string
  diagnostic?: string
  explanation?: string
}): BounceSpec {
  const defaults = BOUNCE_DEFAULTS[input.type]
  const status = input.status ?? defaults.status
  const replyCode = status[0] === defaults.status[0] ? defaults.replyCode : status.startsWith('4') ? 450 : 550
  const diagnostic = input.diagnostic ?? `smtp; ${replyCode} ${status} ${defaults.text}`
  return {
    type: input.type,
    status,
    diagnostic,
    ...(input.explanation === undefined ? {} : { explanation: input.explanation }),
  }
}

export function diagnosticFor(spec: BounceSpec, recipient: string): string {
  // A function, not a string: `$&`, `$'` and `$$` are legal in a local part (RFC 5322 atext) and a
  // replacement string would expand them.
  return spec.diagnostic.replaceAll('{recipient}', () => recipient)
}
