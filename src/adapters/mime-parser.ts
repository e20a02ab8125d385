import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { HeaderField, MessageContent } from '../domain/message.js'
import { MessageUnavailableError } from '../ports/index.js'
import { type MimeLibrary, MimeLimitError, MimeScanner, type ScannerLimits } from './mime-scanner.js'
import {
  decodeHeaderValue,
  FROM_BYTES_LIMIT,
  fromAddressesCapped,
  hasEncodedWord,
  unfold,
} from './mime-text.js'

/**
 * The limits of one message. Each bounds work that is not linear in the bytes, or memory held at
 * once; a message that reaches one is decided on what was read up to it (a limit never switches a
 * rule off: the rules file's `onUnreadable` decides what the cut hides). Each is far beyond what
 * real mail needs, which is why it is safe.
 */
export const MESSAGE_LIMITS: ScannerLimits = {
  /**
   * One part's header block, held whole until it ends: twice the 1 MiB default of mailparser
   * (maxHeadSize) and of Exim (header_maxsize), so that even a single header line of 1 MiB
   * (test/fixtures/hostile: header-line-1mb) is read. Real mail's top-level block is a few KB.
   */
  maxHeadBytes: 2 * 1024 * 1024,
  /**
   * MIME parts, the message included: each costs a node and a parse of its headers (about 20 µs),
   * so the count bounds that work. mailparser stops at 1,000 by default; 10,000 is ten times that.
   */
  maxParts: 10_000,
  /**
   * Levels below the message: Postfix's mime_nesting_limit (100), beyond which Postfix refuses
   * mail. The MIME standard sets none; real mail rarely passes 10, except forwards of forwards.
   */
  maxDepth: 100,
  /**
   * One part's Content-Type or Content-Disposition field: libmime's parameter parse costs about
   * 0.1–0.5 µs a byte, far more than reading, and grows faster than the field past a few hundred
   * KB. A 255-byte file name, RFC 2231 percent-encoded in segments, needs under 3 KB; Postfix keeps
   * 100 KB of a header (header_size_limit); 128 KiB also holds the 64 KiB boundary of the hostile
   * corpus (boundary-64kb), which RFC 2046 would cap at 70 characters.
   */
  maxFieldBytes: 128 * 1024,
  /**
   * Parameters of one such field, RFC 2231 segments counted apiece: a long UTF-8 file name folded
   * by a mail client takes about ten segments; 64 leaves room for five times that.
   */
  maxFieldParameters: 64,
  /**
   * Content-Type and Content-Disposition bytes of the whole message: their parse is the costly
   * part of a part; 2 MiB is 10,000 parts of 200 bytes each, and at most about 300 ms.
   */
  maxStructuredBytes: 2 * 1024 * 1024,
}

/**
 * RFC 2047 encoded words are decoded in at most this many bytes of top-level header values a
 * message (about 0.2 µs a byte): a Subject and a From name take a few hundred.
 */
export const ENCODED_HEADER_BUDGET = 64 * 1024

/**
 * Streams a raw message through the MIME structure scanner and keeps only the facts rules use:
 * total size, the top-level headers, and each attachment's name, type and size. Bodies are
 * counted as they pass and dropped, never held, never decoded: the cost is one pass over the
 * bytes, and memory stays at a stream chunk plus one part's header block (at most 2 MiB).
 * Attachments and filenames are those mailparser reports (see mime-scanner.ts). When a limit is
 * reached, the facts are what was read before it (`cutOff` says which); the rest of the stream is
 * not parsed, only counted, unless `sizeBytes` (the stored size) makes even that needless.
 */
export async function parseMessage(
  input: Readable,
  signal: AbortSignal,
  sizeBytes?: number,
  limits: ScannerLimits = MESSAGE_LIMITS,
): Promise<MessageContent> {
  let scanner: MimeScanner
  let limit: string | undefined
  try {
    // The MIME header code (mailsplit, libmime) is loaded on the first message that needs it,
    // not at cold start.
    const mime = await mimeLibrary()
    scanner = new MimeScanner(mime, limits)
    await pipeline(
      input,
      async (source: AsyncIterable<Buffer | string>) => {
        for await (const piece of source) {
          const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece
          if (limit !== undefined) {
            // past the limit the bytes are only counted (write counted the chunk it stopped in)
            scanner.sizeBytes += chunk.length
            continue
          }
          try {
            scanner.write(chunk)
          } catch (error) {
            if (!(error instanceof MimeLimitError)) throw error
            limit = error.message
            // the stored size is known: nothing more to read
            if (sizeBytes !== undefined) return
          }
        }
        if (limit === undefined) {
          try {
            scanner.end()
          } catch (error) {
            if (!(error instanceof MimeLimitError)) throw error
            limit = error.message
          }
        }
      },
      { signal },
    )
  } catch (error) {
    throw new MessageUnavailableError(`the stored message could not be parsed: ${describe(error)}`, {
      cause: error,
    })
  }
  const rootCut = limit !== undefined && !scanner.headersRead
  const headerLines = rootCut ? scanner.partialHeaderLines() : scanner.headerLines
  const decoded = await decodeHeaderFields(headerLines)
  const from = fromAddressesOf(decoded.headers)
  const reached = [...(limit === undefined ? [] : [limit]), ...decoded.limits, ...from.limits]
  return {
    sizeBytes: limit !== undefined && sizeBytes !== undefined ? sizeBytes : scanner.sizeBytes,
    headers: decoded.headers,
    fromAddresses: from.addresses,
    attachments: scanner.attachments,
    ...(reached.length === 0
      ? {}
      : {
          cutOff: {
            limits: reached,
            attachments: limit !== undefined,
            headers: rootCut || decoded.limits.length > 0,
            from: rootCut || from.limits.length > 0,
          },
        }),
  }
}

let library: Promise<MimeLibrary> | undefined

function mimeLibrary(): Promise<MimeLibrary> {
  library ??= Promise.all([import('@zone-eu/mailsplit'), import('libmime')]).then(
    ([{ default: mailsplit }, { default: libmime }]) => ({
      MimeNode: mailsplit.MimeNode,
      detectMimeType: (filename: string) => libmime.detectMimeType(filename),
    }),
    (error: unknown) => {
      library = undefined
      throw error
    },
  )
  return library
}

/** `Name: value` raw lines (folded, possibly 8-bit) → unfolded, decoded fields. */
export async function headerFieldsOf(
  lines: readonly { key: string; line: string }[],
): Promise<HeaderField[]> {
  return (await decodeHeaderFields(lines)).headers
}

/** headerFieldsOf within ENCODED_HEADER_BUDGET: values past it keep their encoded words. */
async function decodeHeaderFields(
  lines: readonly { key: string; line: string }[],
): Promise<{ headers: HeaderField[]; limits: string[] }> {
  let budget = ENCODED_HEADER_BUDGET
  const limits: string[] = []
  const headers: HeaderField[] = []
  for (const { key, line } of lines) {
    const colon = line.indexOf(':')
    const raw = colon === -1 ? '' : line.slice(colon + 1)
    const value = unfold(raw).trim()
    let decoded = value
    if (hasEncodedWord(value)) {
      if (value.length <= budget) {
        budget -= value.length
        decoded = await decodeHeaderValue(value)
      } else if (limits.length === 0) {
        limits.push(`over ${ENCODED_HEADER_BUDGET} bytes of header values with encoded words`)
      }
    }
    headers.push({ name: key.toLowerCase(), value: decoded })
  }
  return { headers, limits }
}

/** The From addresses, from the first FROM_BYTES_LIMIT bytes of each From field. */
function fromAddressesOf(headers: readonly HeaderField[]): { addresses: string[]; limits: string[] } {
  const limits: string[] = []
  const addresses = headers
    .filter((header) => header.name === 'from')
    .flatMap((header) => {
      const { addresses, cut } = fromAddressesCapped(header.value)
      if (cut && limits.length === 0) limits.push(`a From field over ${FROM_BYTES_LIMIT} bytes`)
      return addresses
    })
  return { addresses, limits }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
