import type { MimeNode } from '@zone-eu/mailsplit'
import type { AttachmentInfo } from '../domain/message.js'

/**
 * A streaming MIME structure scanner: the parts of a message, each part's headers, and which
 * parts are attachments, found the way mailparser finds them, at about the cost of reading the
 * bytes. Bodies are never held: a body line is looked at only to see whether it is a delimiter
 * and to count the attachment's decoded size.
 *
 * It is mailsplit's MessageSplitter (the splitter under mailparser) re-framed: the same line rules
 * (a line ends at LF; a delimiter line is `--boundary`, optionally `--`, trailing SP/HTAB, CRs and
 * the LF, optionally after one bare CR; any open ancestor's boundary ends everything below it; a
 * multipart's own boundary is ignored in its epilogue; embedded `message/rfc822` parts), the same
 * limits, and mailsplit's own MimeNode for each part's headers — so Content-Type, boundaries,
 * RFC 2231 / RFC 2047 filenames and 8-bit parameters are decoded by the very code mailparser
 * uses. What differs is the framing: MessageSplitter calls a function and slices a Buffer for
 * every line of the message; here a body line costs one `indexOf(LF)` and a look at its first
 * bytes, and only lines that start like a delimiter (`--`, `\r--`) are assembled.
 *
 * Which parts are attachments follows mailparser's MailParser#createNode: every leaf part that is
 * not inline text/plain, text/html or message/delivery-status, whether it names a file or not;
 * an inline `message/rfc822` is parsed as the embedded message it is. The content type of an
 * `application/octet-stream` attachment with a filename is looked up from the filename.
 *
 * test/unit/mime-differential.test.ts checks that every attachment list agrees with
 * mailparser: events/*.eml, the hostile corpus, and generated messages.
 *
 * Unlike MessageSplitter, the cost is linear in the bytes whatever their shape (issue 14): a
 * delimiter line is matched against the open boundaries by one lookup rather than a walk up the
 * ancestors, no node copies its ancestors' state (mailsplit's part numbers, one array per node
 * as long as the depth, are not kept), and each limit below bounds work that is not linear (a
 * nesting level, a part, a structured header field). A limit reached stops the scan with a
 * MimeLimitError; what was found before it stands.
 */

/** The node class and the MIME type lookup, passed in so that this module loads neither. */
export interface MimeLibrary {
  readonly MimeNode: new (parent?: MimeNode | false, config?: object) => MimeNode
  readonly detectMimeType: (filename: string) => string | false | undefined
}

export interface ScannerLimits {
  /** Header bytes of one part (mailsplit's maxHeadSize, counted the way mailsplit counts them). */
  readonly maxHeadBytes: number
  /** MIME nodes in the message, the root included (mailsplit's maxChildNodes). */
  readonly maxParts: number
  /** Levels a part may sit below the message (the message is level 0). */
  readonly maxDepth: number
  /** Bytes of one part's Content-Type or Content-Disposition field, folding included. */
  readonly maxFieldBytes: number
  /** Parameters of one such field, RFC 2231 segments (`filename*0*=`, `filename*1*=` ...) counted apiece. */
  readonly maxFieldParameters: number
  /** Bytes of Content-Type and Content-Disposition fields in the whole message. */
  readonly maxStructuredBytes: number
}

/** The raw header lines of a part as mailsplit gives them: lower-cased key, folded latin1 line. */
export interface RawHeaderLine {
  readonly key: string
  readonly line: string
}

/** A limit of the message was exceeded; mailsplit's EMAXLEN. */
export class MimeLimitError extends Error {
  readonly code = 'EMAXLEN'
}

/** The node class the scanner builds: mailsplit's MimeNode, its depth kept beside it. */
interface ScanNode extends MimeNode {
  depth: number
  /** Its boundary is in `openBoundaries`. */
  opened: boolean
}

type ScanNodeClass = new (parent: ScanNode | false, config: object) => ScanNode

const scanNodeClasses = new WeakMap<MimeLibrary['MimeNode'], ScanNodeClass>()

/**
 * mailsplit's MimeNode, less its part numbers: each node's is a copy of its parent's one longer,
 * memory and time that grow with the square of the depth (issue 14: 388 MB at 8,000 levels).
 * Nothing here reads part numbers.
 */
function scanNodeClass(base: MimeLibrary['MimeNode']): ScanNodeClass {
  let node = scanNodeClasses.get(base)
  if (node === undefined) {
    node = class extends base {
      depth = 0
      opened = false
      override getPartNr(): [] {
        return []
      }
    } as unknown as ScanNodeClass
    scanNodeClasses.set(base, node)
  }
  return node
}

const LF = 0x0a
const CR = 0x0d
const SP = 0x20
const TAB = 0x09
const DASH = 0x2d
const EQUALS = 0x3d

// mailsplit: a delimiter line may carry up to 998 SP/HTAB after the boundary (or its closing
// "--"); with "--" in front, "--" behind and the line ending, BOUNDARY_LINE_SUFFIX bytes beyond
// the boundary, and one more line ending in front of it at most (BOUNDARY_LINE_OVERHEAD).
const BOUNDARY_LINE_TRAILING_WSP = 998
const BOUNDARY_LINE_SUFFIX = 2 + 2 + BOUNDARY_LINE_TRAILING_WSP + 2
const BOUNDARY_LINE_OVERHEAD = BOUNDARY_LINE_SUFFIX + 2

/** The fields whose parameters libmime parses for every part: the costly ones to decode. */
const STRUCTURED_FIELDS = new Set(['content-type', 'content-disposition'])

/** mailparser's text types: a leaf of one of these, inline, is body text, not an attachment. */
const TEXT_TYPES = new Set(['text/plain', 'text/html', 'message/delivery-status'])

/** The longest quoted-printable line counted whole (RFC 2045 allows 76 characters). */
const QP_LINE_LIMIT = 8 * 1024

const HEAD = 0
const BODY = 1

/** Where the scan is within the current line. */
const LINE_START = 0
/** The line is assembled in `pending`: a header line, or a body line that may be a delimiter. */
const KEEP = 1
/** A body line that cannot be a delimiter: counted, not kept. */
const SKIP = 2

type Boundary = false | 1 | 2 | 3 | 4

/** The attachment whose body is streaming by, and what has been counted of it. */
interface OpenPart {
  readonly info: { sizeBytes: number }
  readonly encoding: 'base64' | 'quoted-printable' | 'identity'
  /** Decoded bytes so far (identity and quoted-printable) or base64 characters so far. */
  count: number
  /** Bytes of the last line break seen: the one in front of a delimiter belongs to the delimiter. */
  lastBreak: number
  /** base64: line break, white space and padding at the end of what was counted of this line. */
  junk: number
}

export class MimeScanner {
  /** Bytes of the whole message. */
  sizeBytes = 0
  /** The top-level header lines, once the top-level header block has been read. */
  headerLines: readonly RawHeaderLine[] = []
  readonly attachments: AttachmentInfo[] = []

  private node: ScanNode
  private root: MimeNode | undefined
  private state: typeof HEAD | typeof BODY = HEAD
  /** Set by a closing delimiter: the current multipart's own boundary no longer delimits. */
  private inEpilogue = false
  /** The ancestor whose boundary the last delimiter line matched (mailsplit's delimiterOwner). */
  private delimiterOwner: ScanNode | false = false
  private nodeCounter = 0

  /** The current node and its ancestors, by depth: an ancestor is `path[depth]`. */
  private readonly path: ScanNode[] = []
  /** The longest boundary of `path[0..depth]`, by depth. */
  private readonly longestBoundary: number[] = []
  /**
   * Nodes of `path` with a boundary, by the boundary (latin1), innermost last. A node leaves the
   * path only after every node below it has, so it is on top of its stack when it does.
   */
  private readonly openBoundaries = new Map<string, ScanNode[]>()
  private readonly Node: ScanNodeClass
  /** The structured field the current header line continues, and its bytes and parameters. */
  private field: { name: string; bytes: number; parameters: number } | undefined
  private structuredBytes = 0

  private mode: typeof LINE_START | typeof KEEP | typeof SKIP = LINE_START
  private pending: Buffer[] = []
  private pendingLength = 0
  /** The longest body line that could still be a delimiter, for the current node. */
  private keepLimit = 0
  /** The last byte of the previous chunk, to tell CRLF from LF at a chunk boundary. */
  private previousByte = -1
  private part: OpenPart | undefined
  /** The attachment just emitted, until its body starts (or it turns out to have none). */
  private pendingAttachment: { node: MimeNode; info: { sizeBytes: number } } | undefined
  private ended = false

  constructor(
    private readonly mime: MimeLibrary,
    private readonly limits: ScannerLimits,
  ) {
    this.Node = scanNodeClass(mime.MimeNode)
    this.node = this.newNode(false)
  }

  /** The top-level header block has ended: `headerLines` are all of it. */
  get headersRead(): boolean {
    return this.root !== undefined
  }

  /**
   * The top-level header lines read before a limit stopped the scan inside the top-level header
   * block, less the last field (its folded continuation may be missing). Empty otherwise.
   */
  partialHeaderLines(): RawHeaderLine[] {
    if (this.root !== undefined || this.node.depth !== 0 || this.node.headers) return []
    const node: MimeNode = this.node
    node.parseHeaders()
    const lines = node.headers ? node.headers.getList().map(({ key, line }) => ({ key, line })) : []
    return lines.slice(0, -1)
  }

  write(chunk: Buffer): void {
    if (this.ended) throw new Error('write after end')
    const length = chunk.length
    this.sizeBytes += length
    let position = 0
    while (position < length) {
      if (this.mode === LINE_START) this.mode = this.startLine(chunk, position)
      const lf = chunk.indexOf(LF, position)
      const end = lf === -1 ? length : lf + 1
      if (this.mode === SKIP) {
        if (this.part !== undefined) {
          const before = position > 0 ? (chunk[position - 1] as number) : this.previousByte
          this.countBody(chunk, position, end, lf !== -1, before)
        }
      } else {
        this.keep(chunk.subarray(position, end), lf !== -1)
      }
      if (lf !== -1) this.mode = LINE_START
      position = end
    }
    if (length > 0) this.previousByte = chunk[length - 1] as number
  }

  /** The end of the message: an unterminated last line is a line, and an open header block ends. */
  end(): void {
    if (this.ended) return
    this.ended = true
    if (this.mode === SKIP) {
      if (this.part !== undefined) this.closeBody(false)
      return
    }
    const line = this.takePending() ?? Buffer.alloc(0)
    const kind = this.processLine(line, true)
    if (kind === 'body' && this.part !== undefined) this.countLine(line)
    if (this.part !== undefined) this.closeBody(false)
  }

  // ------------------------------------------------------------------------------------------
  // Framing
  // ------------------------------------------------------------------------------------------

  /** Decides how the line that begins at `position` is read. */
  private startLine(chunk: Buffer, position: number): typeof KEEP | typeof SKIP {
    if (this.state === HEAD || this.part?.encoding === 'quoted-printable') return KEEP
    return candidacy(chunk, position, chunk.length) === 'no' ? SKIP : KEEP
  }

  /** Appends a piece of a kept line; runs the line when it is complete. */
  private keep(piece: Buffer, complete: boolean): void {
    this.pending.push(piece)
    this.pendingLength += piece.length
    if (this.state === BODY) {
      // A body line is kept only while it may still be a delimiter: its first bytes say so
      // (they may have arrived in pieces), and a delimiter line has a bounded length.
      const first = this.pending.length === 1 ? piece : Buffer.concat(this.pending, this.pendingLength)
      if (this.pending.length > 1) this.pending = [first]
      const verdict = candidacy(first, 0, first.length)
      // A quoted-printable line of an attachment is kept whole (to a bound) to count its escapes.
      const qp = this.part?.encoding === 'quoted-printable'
      const limit = qp ? Math.max(this.keepLimit, QP_LINE_LIMIT) : this.keepLimit
      if ((verdict === 'no' && !qp) || this.pendingLength > limit) {
        const line = this.takePending() as Buffer
        this.mode = SKIP
        if (this.part !== undefined) this.countBody(line, 0, line.length, complete, -1)
        return
      }
    } else if (!complete && this.pendingLength > this.maxBoundaryLength() + BOUNDARY_LINE_OVERHEAD) {
      // An unfinished header line too long to be a delimiter counts against the header limit
      // already (mailsplit's enforcePendingLineLimit): a header line of gigabytes is refused
      // before it is held.
      if (this.node.headerCost(this.pendingLength) > this.limits.maxHeadBytes) {
        throw new MimeLimitError(`a header block over ${this.limits.maxHeadBytes} bytes`)
      }
      if (this.pending.length > 64) this.pending = [Buffer.concat(this.pending, this.pendingLength)]
    }
    if (!complete) return
    const line = this.takePending() as Buffer
    const kind = this.processLine(line, false)
    if (kind === 'body' && this.part !== undefined) this.countLine(line)
  }

  private takePending(): Buffer | undefined {
    if (this.pendingLength === 0) {
      this.pending = []
      return undefined
    }
    const line =
      this.pending.length === 1
        ? (this.pending[0] as Buffer)
        : Buffer.concat(this.pending, this.pendingLength)
    this.pending = []
    this.pendingLength = 0
    return line
  }

  // ------------------------------------------------------------------------------------------
  // Structure: MessageSplitter#processLine and #checkBoundary
  // ------------------------------------------------------------------------------------------

  private processLine(line: Buffer, final: boolean): 'delimiter' | 'header' | 'body' {
    if (this.nodeCounter > this.limits.maxParts)
      throw new MimeLimitError(`over ${this.limits.maxParts} MIME parts`)

    const boundary = this.checkBoundary(line)
    if (boundary) {
      if (this.part !== undefined) this.closeBody(true)
      switch (boundary) {
        case 1:
          // the first (or next) part of the current multipart
          this.node = this.newNode(this.node)
          break
        case 2:
          // a closing delimiter of the current node's own boundary before any part: nothing ends
          break
        case 3:
          // the next part of an open ancestor: every part below it ends. A part whose header
          // block was still open is dropped, as mailsplit drops it.
          this.node = this.newNode(this.delimiterOwner)
          break
        case 4: {
          // an open ancestor closes: an open header block is a part all the same
          if (this.node._headerlen && !this.node.headers) this.emitNode(this.node)
          const owner = this.delimiterOwner as ScanNode
          this.leaveBelow(owner.depth)
          this.node = owner
          this.inEpilogue = true
          this.state = BODY
          this.keepLimit = this.maxBoundaryLength() + BOUNDARY_LINE_OVERHEAD
          break
        }
      }
      return 'delimiter'
    }

    if (this.state === HEAD) {
      const endsBlock = this.node.addHeaderChunk(line)
      if (this.node.headerCost() > this.limits.maxHeadBytes) {
        throw new MimeLimitError(`a header block over ${this.limits.maxHeadBytes} bytes`)
      }
      this.countHeaderLine(line, endsBlock)
      if (final || endsBlock) {
        const current = this.node
        current.parseHeaders()
        // An inline message/rfc822 is read as the message it is: its header block follows. Decided
        // before the node is reported, as mailsplit does, so that it is not taken for an attachment.
        const embeds =
          current.contentType === 'message/rfc822' &&
          (!current.encoding || ['7bit', '8bit', 'binary'].includes(current.encoding)) &&
          current.disposition === 'inline'
        if (current.contentType === 'message/rfc822') current.messageNode = embeds
        this.emitNode(current)
        if (current._boundary) this.openBoundary(current as ScanNode)
        if (embeds) {
          const embedded = this.newNode(current)
          if (current.parentNode) {
            // the embedded message continues inside its container: the container's parent's
            // delimiters still end it
            embedded._parentBoundary = current.parentNode._boundary
            embedded._parentBoundaryOwner = current.parentNode as MimeNode
          }
          this.node = embedded
        } else {
          this.state = BODY
          this.keepLimit = this.maxBoundaryLength() + BOUNDARY_LINE_OVERHEAD
          this.openBody(current)
        }
      }
      return 'header'
    }
    return 'body'
  }

  /**
   * The current node's own boundary first (unless it has closed), then the innermost open
   * ancestor whose boundary the line is a delimiter of: found by the boundary the line spells,
   * not by trying each ancestor in turn (a line 1,000 levels deep cost 1,000 comparisons).
   */
  private checkBoundary(line: Buffer): Boundary {
    let start = 0
    if (line.length >= 1 && (line[0] === CR || line[0] === LF)) {
      start++
      if (line.length >= 2 && line[0] === CR && line[1] === LF) start++
    }
    if (line.length < 4 || line[start] !== DASH || line[start + 1] !== DASH) return false

    const own = this.node._boundary
    if (!this.inEpilogue && own) {
      const result = compareBoundary(line, start, own)
      if (result) return result
    }
    // `--boundary`, `--` if closing, white space, CRs and LF: the boundary is what is left when
    // the line ending and white space are taken off (a boundary never ends in white space), or
    // that less a closing `--`
    let end = line.length
    if (end > start && line[end - 1] === LF) end--
    while (end > start && line[end - 1] === CR) end--
    while (end > start && (line[end - 1] === SP || line[end - 1] === TAB)) end--
    const spelt = line.toString('latin1', start + 2, end)
    const delimiter = this.openOwner(spelt)
    const closing = spelt.endsWith('--') && spelt.length > 2 ? this.openOwner(spelt.slice(0, -2)) : undefined
    // the innermost of the two, as the walk up the ancestors found it first
    const candidates = [delimiter, closing].filter((owner) => owner !== undefined)
    candidates.sort((a, b) => b.depth - a.depth)
    for (const owner of candidates) {
      const result = compareBoundary(line, start, owner._boundary as Buffer)
      if (result) {
        this.delimiterOwner = owner
        return result === 1 ? 3 : 4
      }
    }
    return false
  }

  /** The innermost ancestor of the current node whose boundary is `boundary`. */
  private openOwner(boundary: string): ScanNode | undefined {
    const owners = this.openBoundaries.get(boundary)
    if (owners === undefined) return undefined
    const top = owners[owners.length - 1]
    return top === this.node ? owners[owners.length - 2] : top
  }

  private openBoundary(node: ScanNode): void {
    const key = (node._boundary as Buffer).toString('latin1')
    const owners = this.openBoundaries.get(key)
    if (owners === undefined) this.openBoundaries.set(key, [node])
    else owners.push(node)
    node.opened = true
    const length = (node._boundary as Buffer).length
    this.longestBoundary[node.depth] = Math.max(this.longestBoundary[node.depth] ?? 0, length)
  }

  /** The nodes deeper than `depth` leave the path, their boundaries with them. */
  private leaveBelow(depth: number): void {
    for (let at = this.path.length - 1; at > depth; at--) {
      const node = this.path[at] as ScanNode
      if (node.opened && node._boundary) {
        const key = node._boundary.toString('latin1')
        const owners = this.openBoundaries.get(key) as ScanNode[]
        owners.pop()
        if (owners.length === 0) this.openBoundaries.delete(key)
      }
    }
    this.path.length = depth + 1
    this.longestBoundary.length = depth + 1
  }

  private maxBoundaryLength(): number {
    return this.longestBoundary[this.node.depth] ?? 0
  }

  private newNode(parent: ScanNode | false): ScanNode {
    const depth = parent ? parent.depth + 1 : 0
    if (depth > this.limits.maxDepth) {
      throw new MimeLimitError(`MIME nesting deeper than ${this.limits.maxDepth} levels`)
    }
    const node = new this.Node(parent, {})
    node.depth = depth
    if (parent) this.leaveBelow(parent.depth)
    this.path[depth] = node
    this.longestBoundary[depth] = depth === 0 ? 0 : (this.longestBoundary[depth - 1] ?? 0)
    this.field = undefined
    this.state = HEAD
    this.nodeCounter++
    this.inEpilogue = false
    return node
  }

  /**
   * Counts a header line against the limits of the structured fields: libmime's parse of their
   * parameters costs far more a byte than reading the line, so their bytes and parameters are
   * bounded per field and per message (see mime-parser.ts for the values and why they are safe).
   */
  private countHeaderLine(line: Buffer, endsBlock: boolean): void {
    if (endsBlock) {
      this.field = undefined
      return
    }
    const first = line[0]
    if (first !== SP && first !== TAB) {
      const colon = line.indexOf(0x3a)
      const name = colon === -1 ? '' : line.toString('latin1', 0, colon).trim().toLowerCase()
      this.field = STRUCTURED_FIELDS.has(name) ? { name, bytes: 0, parameters: 0 } : undefined
    }
    const field = this.field
    if (field === undefined) return
    field.bytes += line.length
    this.structuredBytes += line.length
    for (let at = line.indexOf(0x3b); at !== -1; at = line.indexOf(0x3b, at + 1)) field.parameters++
    if (field.bytes > this.limits.maxFieldBytes) {
      throw new MimeLimitError(`a ${field.name} field over ${this.limits.maxFieldBytes} bytes`)
    }
    if (field.parameters > this.limits.maxFieldParameters) {
      throw new MimeLimitError(`a ${field.name} field with over ${this.limits.maxFieldParameters} parameters`)
    }
    if (this.structuredBytes > this.limits.maxStructuredBytes) {
      throw new MimeLimitError(
        `over ${this.limits.maxStructuredBytes} bytes of Content-Type and Content-Disposition fields`,
      )
    }
  }

  // ------------------------------------------------------------------------------------------
  // Parts: MailParser#createNode and #processChunk
  // ------------------------------------------------------------------------------------------

  private emitNode(node: MimeNode): void {
    node.parseHeaders()
    if (this.root === undefined) {
      this.root = node
      const headers = node.headers
      this.headerLines = headers ? headers.getList().map(({ key, line }) => ({ key, line })) : []
    }
    this.pendingAttachment = undefined
    if (node.contentType === 'message/rfc822' && node.messageNode) return
    let contentType: string | false = node.contentType
    if (!contentType && node.root) contentType = 'text/plain'
    if (contentType && /^multipart\//i.test(contentType)) return

    let disposition = node.disposition
    if (disposition && disposition !== 'attachment' && disposition !== 'inline') disposition = 'attachment'
    const isText = contentType !== false && TEXT_TYPES.has(contentType)
    const effective = !disposition && !isText ? 'attachment' : disposition || 'inline'
    if (isText && effective === 'inline') return

    let type = contentType
    if (type === 'application/octet-stream' && node.filename) {
      type = this.mime.detectMimeType(node.filename) || 'application/octet-stream'
    }
    const info: { filename?: string; contentType: string; sizeBytes: number } = {
      // mailparser gives `false` for `Content-Type: ;`: a type unknown, as it calls an attachment
      // it cannot type.
      contentType: type ? type.toLowerCase() : 'application/octet-stream',
      sizeBytes: 0,
      ...(node.filename ? { filename: node.filename } : {}),
    }
    this.attachments.push(info)
    this.pendingAttachment = { node, info }
  }

  private openBody(node: MimeNode): void {
    const pending = this.pendingAttachment
    this.pendingAttachment = undefined
    if (pending === undefined || pending.node !== node) return
    const encoding =
      node.encoding === 'base64' || node.encoding === 'quoted-printable' ? node.encoding : 'identity'
    this.part = { info: pending.info, encoding, count: 0, lastBreak: 0, junk: 0 }
  }

  // ------------------------------------------------------------------------------------------
  // Attachment sizes: counted line by line, never decoded. Exact for well-formed base64 (its
  // characters less line breaks and padding) and for 7bit/8bit/binary (mailsplit's body bytes);
  // for quoted-printable, escapes, trailing white space and soft line breaks of each line are
  // counted. No rule reads these sizes: filenames and types decide.
  // ------------------------------------------------------------------------------------------

  private countLine(line: Buffer): void {
    this.countBody(line, 0, line.length, line.length > 0 && line[line.length - 1] === LF, -1)
  }

  /**
   * Counts `chunk[start, end)` of a body line into the open part; `complete` when the piece ends
   * the line (with its LF); `before` is the byte in front of `start` (-1: none that matters).
   */
  private countBody(chunk: Buffer, start: number, end: number, complete: boolean, before: number): void {
    const part = this.part as OpenPart
    const length = end - start
    if (length === 0) return
    if (part.encoding === 'identity') {
      part.count += length
      if (complete) part.lastBreak = lineBreakLength(chunk, start, end, before)
      return
    }
    if (part.encoding === 'base64') {
      // Characters are counted as they come; the run of non-characters at the end of the line
      // (padding, white space, the line break) may span pieces and is taken off at the line end.
      const junk = trailingBase64Junk(chunk, start, end)
      part.junk = junk === length ? part.junk + junk : junk
      part.count += length
      if (complete) {
        part.count -= part.junk
        part.junk = 0
      }
      return
    }
    // quoted-printable: every =XX escape is one byte; trailing white space is dropped; a line
    // ending in `=` is a soft line break.
    let bytes = length
    for (
      let at = chunk.indexOf(EQUALS, start);
      at !== -1 && at + 2 < end;
      at = chunk.indexOf(EQUALS, at + 1)
    ) {
      if (isHex(chunk[at + 1] as number) && isHex(chunk[at + 2] as number)) {
        bytes -= 2
        at += 2
      }
    }
    if (complete) {
      const lineBreak = lineBreakLength(chunk, start, end, before)
      let last = end - lineBreak
      while (last > start && (chunk[last - 1] === SP || chunk[last - 1] === TAB)) last--
      bytes -= end - lineBreak - last
      if (last > start && chunk[last - 1] === EQUALS && lineBreak > 0) {
        bytes -= 1 + lineBreak
        part.lastBreak = 0
      } else {
        part.lastBreak = lineBreak
      }
    }
    part.count += bytes
  }

  /** The part ends: at a delimiter, the line break in front of it is the delimiter's. */
  private closeBody(atDelimiter: boolean): void {
    const part = this.part as OpenPart
    this.part = undefined
    if (part.encoding === 'base64') {
      // an unterminated last line may still end in padding
      part.info.sizeBytes = Math.floor(((part.count - part.junk) * 3) / 4)
    } else {
      part.info.sizeBytes = Math.max(0, part.count - (atDelimiter ? part.lastBreak : 0))
    }
  }
}

/**
 * Whether a body line starting at `position` may be a delimiter line: `--` or `\r--` (one bare
 * CR in front is allowed, as mailsplit allows it). 'maybe' when the bytes so far do not tell.
 */
function candidacy(bytes: Buffer, position: number, end: number): 'yes' | 'no' | 'maybe' {
  const available = end - position
  const first = bytes[position]
  if (available === 0) return 'maybe'
  if (first === DASH) {
    if (available === 1) return 'maybe'
    return bytes[position + 1] === DASH ? 'yes' : 'no'
  }
  if (first !== CR) return 'no'
  if (available === 1) return 'maybe'
  if (bytes[position + 1] !== DASH) return 'no'
  if (available === 2) return 'maybe'
  return bytes[position + 2] === DASH ? 'yes' : 'no'
}

/**
 * mailsplit's compareBoundary: 1 for a delimiter line, 2 for a closing one, false otherwise.
 * `--boundary`, `--` for a closing one, at most 998 SP/HTAB, a run of CRs and an LF; only a
 * closing delimiter may end the input without a line ending.
 */
function compareBoundary(line: Buffer, start: number, boundary: Buffer): 1 | 2 | false {
  if (
    line.length < boundary.length + 3 + start ||
    line.length > boundary.length + BOUNDARY_LINE_SUFFIX + start
  ) {
    return false
  }
  if (line.compare(boundary, 0, boundary.length, start + 2, start + 2 + boundary.length) !== 0) return false
  let i = boundary.length + 2 + start
  let result: 1 | 2 = 1
  if (line[i] === DASH) {
    if (line[i + 1] !== DASH) return false
    result = 2
    i += 2
  }
  while (i < line.length && (line[i] === SP || line[i] === TAB)) i++
  if (i === line.length) return result === 2 ? 2 : false
  while (i < line.length && line[i] === CR) i++
  if (i < line.length && line[i] === LF) i++
  return i === line.length ? result : false
}

/** 1 for LF, 2 for CRLF, 0 for no line break at `end`; `before` is the byte before `start`. */
function lineBreakLength(chunk: Buffer, start: number, end: number, before: number): number {
  if (end <= start || chunk[end - 1] !== LF) return 0
  const previous = end - 2 >= start ? chunk[end - 2] : before
  return previous === CR ? 2 : 1
}

/** Line break, white space and padding at the end of a base64 line: not base64 characters. */
function trailingBase64Junk(chunk: Buffer, start: number, end: number): number {
  let at = end
  while (at > start) {
    const byte = chunk[at - 1]
    if (byte !== LF && byte !== CR && byte !== SP && byte !== TAB && byte !== EQUALS) break
    at--
  }
  return end - at
}

function isHex(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
}
