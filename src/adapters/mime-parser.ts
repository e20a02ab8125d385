import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { HeaderField, MessageContent } from '../domain/message.js'
import { MessageUnavailableError } from '../ports/index.js'
import { type MimeLibrary, MimeScanner } from './mime-scanner.js'
import { addressesOf, decodeHeaderValue } from './mime-text.js'

/**
 * Limits above mailparser's defaults (1 MiB of head, 1,000 parts), because a message built to
 * exceed them must not slip past an attachment rule by making the parse fail early; beyond these,
 * the message is unreadable and the mail flows on unbounced.
 */
const MAX_HEAD_BYTES = 4 * 1024 * 1024
const MAX_PARTS = 20_000

/**
 * Streams a raw message through the MIME structure scanner and keeps only the facts rules use:
 * total size, the top-level headers, and each attachment's name, type and size. Bodies are
 * counted as they pass and dropped, never held, never decoded: the cost is one pass over the
 * bytes, and memory stays at a stream chunk plus one part's header block (at most 4 MiB).
 * Attachments and filenames are those mailparser reports (see mime-scanner.ts).
 */
export async function parseMessage(input: Readable, signal: AbortSignal): Promise<MessageContent> {
  let scanner: MimeScanner
  try {
    // The MIME header code (mailsplit, libmime) is loaded on the first message that needs it,
    // not at cold start.
    scanner = new MimeScanner(await mimeLibrary(), { maxHeadBytes: MAX_HEAD_BYTES, maxParts: MAX_PARTS })
    await pipeline(
      input,
      async (source: AsyncIterable<Buffer | string>) => {
        for await (const chunk of source)
          scanner.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
        scanner.end()
      },
      { signal },
    )
  } catch (error) {
    throw new MessageUnavailableError(`the stored message could not be parsed: ${describe(error)}`, {
      cause: error,
    })
  }
  const headers = await headerFieldsOf(scanner.headerLines)
  return {
    sizeBytes: scanner.sizeBytes,
    headers,
    fromAddresses: headers
      .filter((header) => header.name === 'from')
      .flatMap((header) => addressesOf(header.value)),
    attachments: scanner.attachments,
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
  return Promise.all(
    lines.map(async ({ key, line }) => {
      const colon = line.indexOf(':')
      const raw = colon === -1 ? '' : line.slice(colon + 1)
      return {
        name: key.toLowerCase(),
        value: await decodeHeaderValue(raw.replace(/\r?\n(?=[ \t])/g, '').trim()),
      }
    }),
  )
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
