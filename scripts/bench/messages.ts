// Benchmark messages: a text part and base64 attachments, generated deterministically at about
// the requested size, with a small `setup.exe` as the last attachment so an attachment rule has to
// read the whole message to find it; and the SES receipt event for one.

import { readFileSync } from 'node:fs'

const CRLF = '\r\n'

export interface BenchSize {
  /** Short label for tables and message ids: 10KB, 1MB, ... */
  readonly label: string
  readonly bytes: number
}

export const SIZES: readonly BenchSize[] = [
  { label: '10KB', bytes: 10 * 1024 },
  { label: '1MB', bytes: 1024 * 1024 },
  { label: '10MB', bytes: 10 * 1024 * 1024 },
  { label: '30MB', bytes: 30 * 1024 * 1024 },
]

/** The attachment every benchmark message ends with; the content rules bounce it. */
export const EXECUTABLE = 'setup.exe'

/** Pseudo-random bytes (xorshift32): incompressible like real attachments, identical every run. */
export function pseudoRandom(length: number, seed: number): Buffer {
  const out = Buffer.alloc(Math.ceil(length / 4) * 4)
  let x = seed >>> 0 || 1
  for (let i = 0; i < out.length; i += 4) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out.writeUInt32LE(x, i)
  }
  return out.subarray(0, length)
}

/** Base64 in 76-character lines (RFC 2045 6.8), CRLF-terminated. */
export function base64Lines(bytes: Buffer): string {
  const text = bytes.toString('base64')
  const lines: string[] = []
  for (let i = 0; i < text.length; i += 76) lines.push(text.slice(i, i + 76))
  return lines.join(CRLF)
}

function attachment(boundary: string, filename: string, contentType: string, bytes: Buffer): string[] {
  return [
    `--${boundary}`,
    `Content-Type: ${contentType}; name="${filename}"`,
    `Content-Disposition: attachment; filename="${filename}"`,
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(bytes),
  ]
}

/**
 * A multipart/mixed message of about `size` bytes: a text/plain part, up to three base64
 * attachments sharing the bulk of the size (base64 is 4/3 of the payload plus line breaks), and a
 * 2 KB `setup.exe` at the end.
 */
export function benchMessage(size: BenchSize): Buffer {
  const boundary = `=_bench_${size.label}_7f3a91c2`
  const text = 'Please find the quarterly documents attached. '.repeat(40)
  const head = [
    'Return-Path: <martin.keller@acme-logistics.example>',
    'From: Martin Keller <martin.keller@acme-logistics.example>',
    'To: Alice Example <alice@example.com>',
    `Subject: Benchmark message, ${size.label}`,
    'Date: Mon, 2 Nov 2026 09:15:38 +0100',
    `Message-ID: <bench-${size.label}@mail.acme-logistics.example>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    'This is a multi-part message in MIME format.',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 7bit',
    '',
    text,
  ]
  const fixed = Buffer.byteLength(head.join(CRLF)) + 4 * 1024
  // Base64 with CRLF every 76 characters: 78 bytes of message per 57 bytes of payload.
  const payload = Math.max(0, Math.floor(((size.bytes - fixed) * 57) / 78))
  const files = [
    { filename: 'report-q3.pdf', contentType: 'application/pdf' },
    { filename: 'photos.zip', contentType: 'application/zip' },
    { filename: 'scan-0042.jpg', contentType: 'image/jpeg' },
  ].slice(0, size.bytes >= 1024 * 1024 ? 3 : 1)
  const parts = files.flatMap((file, index) =>
    attachment(
      boundary,
      file.filename,
      file.contentType,
      pseudoRandom(Math.floor(payload / files.length), index + 1),
    ),
  )
  const tail = [
    ...attachment(boundary, EXECUTABLE, 'application/octet-stream', pseudoRandom(2048, 99)),
    `--${boundary}--`,
    '',
  ]
  return Buffer.from([...head, ...parts, ...tail].join(CRLF), 'latin1')
}

/** events/accepted.json made over for a benchmark message: its id, recipients, received now. */
export function receiptEvent(messageId: string, recipients: readonly string[]): unknown {
  const event = JSON.parse(readFileSync(new URL('../../events/accepted.json', import.meta.url), 'utf8'))
  const { mail, receipt } = event.Records[0].ses
  const now = new Date().toISOString()
  mail.messageId = messageId
  mail.timestamp = now
  mail.destination = [...recipients]
  receipt.timestamp = now
  receipt.recipients = [...recipients]
  return event
}
