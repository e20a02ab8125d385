import { type Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { AttachmentInfo, HeaderField, MessageContent } from '../domain/message.js'
import { MessageUnavailableError } from '../ports/index.js'
import { addressesOf, decodeHeaderValue } from './mime-text.js'

/**
 * Limits above mailparser's defaults (1 MiB of head, 1,000 parts), because a message built to
 * exceed them must not slip past an attachment rule by making the parse fail early; beyond these,
 * the message is unreadable and the mail flows on unbounced.
 */
const MAX_HEAD_BYTES = 4 * 1024 * 1024
const MAX_PARTS = 20_000

/**
 * Streams a raw message through mailparser and keeps only the facts rules use: total size, the
 * top-level headers, and each attachment's name, type and size. Attachment bodies are counted
 * as they pass and dropped, never held; the message is never decoded as one string.
 */
export async function parseMessage(input: Readable, signal: AbortSignal): Promise<MessageContent> {
  // mailparser is loaded on the first message that needs it, not at cold start.
  const { MailParser } = await import('mailparser')
  const parser = new MailParser({
    checksumAlgo: false,
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
    maxHeadSize: MAX_HEAD_BYTES,
    maxChildNodes: MAX_PARTS,
  })
  let sizeBytes = 0
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sizeBytes += chunk.length
      done(null, chunk)
    },
  })
  let headerLines: { key: string; line: string }[] = []
  parser.once('headerLines', (lines: { key: string; line: string }[]) => {
    headerLines = lines
  })
  const attachments: AttachmentInfo[] = []
  const drained: Promise<void>[] = []
  parser.on('data', (part: MailParserPart) => {
    if (part.type !== 'attachment') return
    // A throw here would escape mailparser's setImmediate as an uncaught exception and kill the
    // invocation; failing the parse instead makes the message unreadable, which fails open.
    try {
      drained.push(drainAttachment(part, attachments))
    } catch (error) {
      parser.destroy(error instanceof Error ? error : new Error(String(error)))
    }
  })

  try {
    await pipeline(input, counter, parser, { signal })
    await Promise.all(drained)
  } catch (error) {
    throw new MessageUnavailableError(`the stored message could not be parsed: ${describe(error)}`, {
      cause: error,
    })
  }
  const headers = await headerFieldsOf(headerLines)
  return {
    sizeBytes,
    headers,
    fromAddresses: headers
      .filter((header) => header.name === 'from')
      .flatMap((header) => addressesOf(header.value)),
    attachments,
  }
}

interface MailParserPart {
  type: 'attachment' | 'text'
  filename?: string
  /** `false` for a part whose Content-Type header is present but has no type (`Content-Type: ;`). */
  contentType?: string | false
  content?: Readable
  release?: (() => void) | null
}

function drainAttachment(part: MailParserPart, attachments: AttachmentInfo[]): Promise<void> {
  const info: { filename?: string; contentType: string; sizeBytes: number } = {
    // mailparser gives `false` for `Content-Type: ;` on a part it still reports as an attachment:
    // a type unknown, as mailparser itself calls an attachment it cannot type.
    contentType: part.contentType ? part.contentType.toLowerCase() : 'application/octet-stream',
    sizeBytes: 0,
    ...(part.filename ? { filename: part.filename } : {}),
  }
  attachments.push(info)
  return new Promise((resolve) => {
    const content = part.content
    const finish = (): void => {
      part.release?.()
      resolve()
    }
    if (content === undefined) return finish()
    content.on('data', (chunk: Buffer) => {
      info.sizeBytes += chunk.length
    })
    content.once('end', finish)
    content.once('error', finish)
  })
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
