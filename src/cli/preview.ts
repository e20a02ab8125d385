import type { SendBounceRequest } from '../domain/bounce-request.js'

/**
 * The bounce as its recipient will read it, built from the very SendBounce request the function
 * would send. SES writes the message: a `multipart/report; report-type=delivery-status` (RFC 3464,
 * RFC 6522) whose human-readable part is `Explanation` and whose `message/delivery-status` part
 * carries `MessageDsn` as the per-message fields and each `RecipientDsnFields` as a recipient's
 * fields (SES adds `rfc822;` to Final-Recipient itself: API reference, RecipientDsnFields).
 * SES's subject line and the third part (the returned message) are SES's own and not shown.
 */
export function previewBounce(request: SendBounceRequest, envelopeSender: string): string[] {
  const dsn = request.MessageDsn
  const perMessage = [
    `Reporting-MTA: ${dsn.ReportingMta}`,
    `Arrival-Date: ${rfc5322Date(dsn.ArrivalDate)}`,
    ...(dsn.ExtensionFields ?? []).map((field) => `${field.Name}: ${field.Value}`),
  ]
  const perRecipient = request.BouncedRecipientInfoList.map(({ Recipient, RecipientDsnFields: fields }) =>
    [
      `Final-Recipient: rfc822; ${Recipient}`,
      `Action: ${fields.Action}`,
      `Status: ${fields.Status}`,
      `Diagnostic-Code: ${fields.DiagnosticCode}`,
      ...(fields.ExtensionFields ?? []).map((field) => `${field.Name}: ${field.Value}`),
    ].join('\n'),
  )
  const indent = (text: string) => text.split('\n').map((line) => (line === '' ? '' : `      ${line}`))
  return [
    `  the bounce ${envelopeSender === '' ? 'SES would send (the envelope sender is empty)' : `to ${envelopeSender}`}, as SES builds it from the function's SendBounce request:`,
    `    From: ${request.BounceSender}`,
    '    Content-Type: multipart/report; report-type=delivery-status',
    '    text/plain:',
    ...indent(request.Explanation ?? '(no Explanation: SES writes its own text from the recipients)'),
    '    message/delivery-status:',
    ...indent([perMessage.join('\n'), ...perRecipient].join('\n\n')),
  ]
}

/** RFC 5322 §3.3 date-time, which RFC 3464 uses for Arrival-Date: `Mon, 02 Nov 2026 09:03:11 +0000`. */
function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000')
}
