// The reference the MIME scanner (src/adapters/mime-scanner.ts) is checked against: mailparser's
// streaming MailParser, driven the way src/adapters/mime-parser.ts drove it before the scanner
// replaced it — same options and limits, every attachment stream drained and released, only the
// attachment's filename, content type and decoded size kept. Used by
// test/integration/mime-differential.test.ts and by `npm run bench` (the "MailParser" row).

import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { MailParser } from 'mailparser'
import { MESSAGE_LIMITS } from '../../src/adapters/mime-parser.js'
import type { AttachmentInfo } from '../../src/domain/message.js'

export interface ReferenceParse {
  /**
   * mailparser split the whole message and then never ended: it waits in cleanup for the end of
   * a part's content stream that nothing reads — an inline message/rfc822 whose header block the
   * end of the input closes (mailparser 3.14.2). Every part had been reported by then.
   */
  readonly hungAtEnd: boolean
  readonly sizeBytes: number
  /** The top-level header lines as mailparser's `headerLines` event gives them. */
  readonly headerLines: readonly { key: string; line: string }[]
  readonly attachments: readonly AttachmentInfo[]
}

interface MailParserPart {
  type: 'attachment' | 'text'
  filename?: string
  contentType?: string | false
  content?: Readable
  release?: (() => void) | null
}

/**
 * Parses `input`; rejects where mailparser fails. Bytes are written in one piece unless
 * `chunkSize` says otherwise: mailparser's answer can depend on where its input is split (a
 * delimiter line with a bare CR in front is not recognised right after a write boundary that cut
 * the line before it), and one write gives its splitter's answer without that artefact.
 */
export async function parseWithMailParser(
  input: Readable | Buffer,
  chunkSize = Number.POSITIVE_INFINITY,
): Promise<ReferenceParse> {
  const parser = new MailParser({
    checksumAlgo: false,
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
    // the limits src/adapters/mime-parser.ts sets on the scanner (mailparser has no others)
    maxHeadSize: MESSAGE_LIMITS.maxHeadBytes,
    maxChildNodes: MESSAGE_LIMITS.maxParts,
  } as ConstructorParameters<typeof MailParser>[0])
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
    const info: { filename?: string; contentType: string; sizeBytes: number } = {
      contentType: part.contentType ? part.contentType.toLowerCase() : 'application/octet-stream',
      sizeBytes: 0,
      ...(part.filename ? { filename: part.filename } : {}),
    }
    attachments.push(info)
    drained.push(
      new Promise((resolve) => {
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
      }),
    )
  })
  const source = Buffer.isBuffer(input) ? Readable.from(chunks(input, chunkSize)) : input
  const hungAtEnd = await Promise.race([
    pipeline(source, counter, parser).then(() => false),
    splitThenStalled(parser),
  ])
  if (hungAtEnd) parser.destroy()
  else await Promise.all(drained)
  return { hungAtEnd, sizeBytes, headerLines, attachments }
}

/**
 * Resolves true once mailparser's splitter has finished (its internal `finished` flag: every part
 * reported) and the parser still has not ended `graceMs` later; never resolves otherwise.
 */
function splitThenStalled(parser: MailParser, graceMs = 250): Promise<boolean> {
  const state = parser as unknown as { finished?: boolean }
  return new Promise((resolve) => {
    let since: number | undefined
    const timer = setInterval(() => {
      if (!state.finished) return
      since ??= Date.now()
      if (Date.now() - since >= graceMs) {
        clearInterval(timer)
        resolve(true)
      }
    }, 25)
    timer.unref()
    parser.once('end', () => clearInterval(timer))
    parser.once('error', () => clearInterval(timer))
  })
}

function* chunks(bytes: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, Math.min(i + size, bytes.length))
}
