// Property: whatever bytes are stored as the message, the real handler resolves (never rejects),
// returns a valid disposition and logs exactly one outcome line. Random bytes, MIME-ish token soup
// and structured-but-broken MIME (random headers, boundaries, nesting, encodings, line ends and
// truncation) are written to a MAIL_DIR and decided for a known recipient, which the content rules
// force to be parsed. And one positive property: a well-formed message that carries an executable
// anywhere in its MIME tree is bounced by `no-executables`.

import { writeFileSync, writeSync } from 'node:fs'
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type BounceHandler, coldStartBounceHandler, invokeBounce } from '../support/bounce-handler.js'
import { EVENTS_DIR } from '../support/events.js'
import { acceptedEventFor, outcomeLines, within } from '../support/hostile.js'
import type { LogLine } from '../support/lambda.js'
import { type SesStub, startSesStub } from '../support/ses-stub.js'

const RUN_TIME_LIMIT_MS = 10_000
/** `PROPERTY_RUNS=5000` for a deeper search; 100 keeps the suite fast. */
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 100)
/** Outcomes seen per property, printed with PROPERTY_REPORT=1 to check what the generators reach. */
const seen = new Map<string, Map<string, number>>()
const tally = (property: string, outcome: string): void => {
  const counts = seen.get(property) ?? new Map<string, number>()
  counts.set(outcome, (counts.get(outcome) ?? 0) + 1)
  seen.set(property, counts)
}

let ses: SesStub
let mailDir: string
let handler: BounceHandler
let sequence = 0

beforeAll(async () => {
  ses = await startSesStub()
  mailDir = await mkdtemp(join(tmpdir(), 'random-mail-'))
  // The sample rules: every message here is under their 256K size limit, so for alice the
  // decision always waits on the attachment rule, which parses the message.
  handler = await coldStartBounceHandler({
    MAIL_DIR: mailDir,
    AWS_ENDPOINT_URL_SES: ses.url,
    RULES_FILE: join(EVENTS_DIR, 'bounce-rules.yml'),
  })
})

afterAll(async () => {
  vi.unstubAllEnvs()
  await ses?.close()
  if (mailDir) await rm(mailDir, { recursive: true, force: true })
  if (process.env.PROPERTY_REPORT) {
    for (const [property, counts] of seen) console.log(property, Object.fromEntries(counts))
  }
})

interface Decided {
  readonly disposition: string
  /** `accept`, `bounce:<rule>`, `drop:<rule>[:<guard>]`, or `unreadable`. */
  readonly outcome: string
}

/**
 * An exception thrown from a stream callback escapes the handler's promise: Vitest fails the run
 * with it, but fast-check never sees it and cannot name the input. Keep the input being decided
 * when it was thrown (a later, delayed throw may be pinned on a later input).
 */
let current: Uint8Array | undefined
function keepCrashingInput(error: Error): void {
  if (current === undefined) return
  const file = join(tmpdir(), `ses-bouncer-uncaught-${process.pid}-${sequence}.eml`)
  writeFileSync(file, current)
  // fd 2 directly: the handler's log capture replaces process.stderr.write while it runs.
  writeSync(2, `uncaught ${error.message} while deciding the message kept in ${file}\n`)
}

beforeAll(() => {
  process.on('uncaughtExceptionMonitor', keepCrashingInput)
})

afterAll(() => {
  process.off('uncaughtExceptionMonitor', keepCrashingInput)
})

/** Stores `bytes` as a fresh message, runs it through the handler and checks the invariants. */
async function decideBytes(bytes: Uint8Array): Promise<Decided> {
  current = bytes
  sequence += 1
  const messageId = `random.${sequence}`
  const path = join(mailDir, `${messageId}.eml`)
  await writeFile(path, bytes)
  try {
    ses.reset()
    const { result, error, lines } = await within(
      invokeBounce(handler, acceptedEventFor(messageId)),
      RUN_TIME_LIMIT_MS,
      `message of ${bytes.length} bytes`,
    )
    if (error !== undefined) throw new Error(`the handler rejected: ${error.stack}`)
    if (result === undefined || !['CONTINUE', 'STOP_RULE_SET'].includes(result.disposition)) {
      throw new Error(`invalid result ${JSON.stringify(result)}`)
    }
    const outcomes = outcomeLines(lines)
    if (outcomes.length !== 1) throw new Error(`${outcomes.length} outcome lines: ${JSON.stringify(lines)}`)
    const [line] = outcomes as [LogLine]
    if (line.level === 'ERROR') {
      if (!/^message not decided/.test(String(line.message)) || line.error === undefined) {
        throw new Error(`an error outcome line that names no cause: ${JSON.stringify(line)}`)
      }
      return { disposition: result.disposition, outcome: 'unreadable' }
    }
    if (line.message !== 'message decided') throw new Error(`unexpected outcome ${JSON.stringify(line)}`)
    const [decision] = line.recipients as { action: string; rule: string | null; guard: string | null }[]
    if (decision === undefined) throw new Error(`no decision for alice: ${JSON.stringify(line)}`)
    const outcome =
      decision.action === 'accept'
        ? 'accept'
        : [decision.action, decision.rule, decision.guard].filter((part) => part !== null).join(':')
    return { disposition: result.disposition, outcome }
  } finally {
    current = undefined
    await unlink(path)
  }
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const latin1 = (text: string): Uint8Array => Buffer.from(text, 'latin1')
const concat = (parts: readonly Uint8Array[]): Uint8Array => Buffer.concat(parts)

/** Any byte string, of any length up to 64 KB (`size: max`: not only the short ones). */
const randomBytes = fc.uint8Array({ maxLength: 64 * 1024, size: 'max' })

/** Fragments a MIME parser branches on, glued together with random bytes. */
const TOKENS = [
  '\r\n',
  '\n',
  '\r',
  '\r\n\r\n',
  '--',
  ': ',
  ';',
  '"',
  '=',
  '\t',
  ' ',
  '\0',
  'Content-Type: ',
  'multipart/mixed; boundary=',
  'multipart/alternative; boundary="b"',
  'message/rfc822',
  'Content-Disposition: attachment; filename=',
  'Content-Transfer-Encoding: base64',
  'Content-Transfer-Encoding: quoted-printable',
  "filename*0*=UTF-8''",
  'name*1="',
  '=?UTF-8?B?',
  '=?ISO-8859-1?Q?',
  '?=',
  'From: ',
  '<a@b>',
  'evil.exe',
  '--b',
  '--b--',
  'begin 644 ',
]
const tokenSoup = fc
  .array(fc.oneof(fc.constantFrom(...TOKENS).map(latin1), fc.uint8Array({ maxLength: 64 })), {
    maxLength: 400,
  })
  .map(concat)

const lineEnd = fc.constantFrom('\r\n', '\r\n', '\r\n', '\n', '\r')
/** Printable and 8-bit text without line ends (a header value or a parameter). */
const text = (maxLength: number) =>
  fc
    .array(fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0, max: 0xff })), { maxLength })
    .map((codes) => String.fromCharCode(...codes.filter((code) => code !== 0x0d && code !== 0x0a)))
const headerName = fc.oneof(
  fc.constantFrom(
    'From',
    'To',
    'Subject',
    'Content-Type',
    'Content-Disposition',
    'Content-Transfer-Encoding',
    'MIME-Version',
    'Auto-Submitted',
    'X-Junk',
  ),
  fc.stringMatching(/^[!-9;-~]{1,20}$/),
)
const headerLine = fc.tuple(headerName, text(200)).map(([name, value]) => `${name}: ${value}`)
const boundaryText = fc.oneof(
  { arbitrary: fc.stringMatching(/^[0-9A-Za-z'()+_,./:=?-]{1,70}$/), weight: 6 },
  { arbitrary: fc.stringMatching(/^[0-9A-Za-z'()+_,./:=? -]{0,200}$/), weight: 1 },
  { arbitrary: text(100), weight: 1 },
  { arbitrary: fc.constant(''), weight: 1 },
)
const filename = fc.oneof(
  {
    arbitrary: fc
      .tuple(
        fc.oneof(fc.stringMatching(/^[A-Za-z0-9 _-]{1,20}$/), text(30)),
        fc.constantFrom('exe', 'scr', 'js', 'txt', 'pdf', 'EXE', ''),
      )
      .map(([base, ext]) => `${base}.${ext}`),
    weight: 4,
  },
  { arbitrary: text(40), weight: 1 },
)
const encoding = fc.constantFrom('base64', 'quoted-printable', '7bit', '8bit', 'binary', 'x-uuencode', 'b@d')

/** A value one time in `every`, otherwise undefined (fc.option's `freq` is the other way round). */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, every: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: every - 1 }, { arbitrary, weight: 1 })

/** One time in four, the random header lines come first, where a junk Content-Type wins. */
const junkFirst = fc.nat(3).map((n) => n === 0)

interface MimeLeaf {
  readonly kind: 'leaf'
  readonly headers: readonly string[]
  readonly junkFirst: boolean
  readonly contentType: string
  readonly disposition?: string
  readonly encoding: string
  readonly body: Uint8Array
  readonly encodeBody: boolean
}
interface MimeMultipart {
  readonly kind: 'multipart'
  readonly headers: readonly string[]
  readonly junkFirst: boolean
  readonly subtype: string
  readonly declared: string
  /** Usually the declared boundary; sometimes another one, as broken mailers do. */
  readonly used: string
  readonly preamble: string
  readonly children: readonly MimeNode[]
  readonly closed: boolean
  readonly epilogue: string
}
type MimeNode = MimeLeaf | MimeMultipart

const leaf: fc.Arbitrary<MimeLeaf> = fc.record({
  kind: fc.constant('leaf' as const),
  headers: fc.array(headerLine, { maxLength: 3 }),
  junkFirst,
  contentType: fc.oneof(
    fc.constantFrom('text/plain; charset=utf-8', 'text/html', 'application/octet-stream', 'message/rfc822'),
    {
      arbitrary: fc
        .tuple(fc.constantFrom('application/octet-stream', 'text/plain'), filename)
        .map(([type, name]) => `${type}; name="${name}"`),
      weight: 2,
    },
    text(60),
  ),
  disposition: fc.option(
    fc.oneof(
      {
        arbitrary: fc
          .tuple(fc.constantFrom('attachment', 'inline', 'x'), filename)
          .map(([kind, name]) => `${kind}; filename="${name}"`),
        weight: 3,
      },
      { arbitrary: text(60), weight: 1 },
    ),
    { nil: undefined },
  ),
  encoding,
  body: fc.uint8Array({ maxLength: 2048 }),
  encodeBody: fc.boolean(),
})

const { multipart } = fc.letrec<{ node: MimeNode; multipart: MimeMultipart }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('multipart')),
  multipart: fc
    .record({
      kind: fc.constant('multipart' as const),
      headers: fc.array(headerLine, { maxLength: 3 }),
      junkFirst,
      subtype: fc.constantFrom('mixed', 'alternative', 'related', 'report', 'digest', 'x-unknown'),
      declared: boundaryText,
      wrong: sometimes(boundaryText, 8),
      preamble: text(100),
      children: fc.array(tie('node'), { maxLength: 4 }),
      closed: fc.boolean(),
      epilogue: text(100),
    })
    .map(({ wrong, ...rest }) => ({ ...rest, used: wrong ?? rest.declared })),
}))

function withJunk(node: MimeNode, structure: readonly string[]): string[] {
  return node.junkFirst ? [...node.headers, ...structure] : [...structure, ...node.headers]
}

function renderNode(node: MimeNode, eol: string): Uint8Array {
  if (node.kind === 'leaf') {
    const body =
      node.encodeBody && node.encoding === 'base64'
        ? latin1(Buffer.from(node.body).toString('base64').replace(/.{76}/g, `$&${eol}`))
        : node.body
    const head = withJunk(node, [
      `Content-Type: ${node.contentType}`,
      ...(node.disposition === undefined ? [] : [`Content-Disposition: ${node.disposition}`]),
      `Content-Transfer-Encoding: ${node.encoding}`,
    ])
    return concat([latin1(head.join(eol) + eol + eol), body])
  }
  const parts: Uint8Array[] = [
    latin1(
      withJunk(node, [`Content-Type: multipart/${node.subtype}; boundary="${node.declared}"`]).join(eol) +
        eol +
        eol +
        node.preamble,
    ),
  ]
  for (const child of node.children) {
    parts.push(latin1(`${eol}--${node.used}${eol}`), renderNode(child, eol))
  }
  if (node.closed) parts.push(latin1(`${eol}--${node.used}--${eol}`))
  parts.push(latin1(node.epilogue))
  return concat(parts)
}

/** A MIME tree with random defects, rendered with one kind of line end, sometimes truncated. */
const brokenMime = fc
  .record({
    root: fc.oneof({ arbitrary: leaf, weight: 1 }, { arbitrary: multipart, weight: 4 }),
    eol: lineEnd,
    cut: sometimes(fc.double({ min: 0, max: 1, noNaN: true }), 4),
  })
  .map(({ root, eol, cut }) => {
    const bytes = renderNode(root, eol)
    return cut === undefined ? bytes : bytes.subarray(0, Math.floor(bytes.length * cut))
  })

// A well-formed message: CRLF, distinct boundaries that cannot occur in the content (base64 and
// 7-bit text never contain "=_"), every delimiter closed, one executable somewhere in the tree.
const EXECUTABLE_EXTENSIONS = ['exe', 'scr', 'js', 'bat', 'vbs', 'cmd', 'EXE', 'Scr']
const safeName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,30}$/)
const executableLeaf = fc
  .record({
    name: safeName,
    extension: fc.constantFrom(...EXECUTABLE_EXTENSIONS),
    type: fc.constantFrom('application/octet-stream', 'application/x-msdownload', 'application/zip'),
    named: fc.constantFrom('disposition', 'content-type', 'both'),
    disposition: fc.constantFrom('attachment', 'inline'),
    body: fc.uint8Array({ maxLength: 4096 }),
  })
  .map(({ name, extension, type, named, disposition, body }) => {
    const file = `${name}.${extension}`
    return [
      named === 'disposition' ? `Content-Type: ${type}` : `Content-Type: ${type}; name="${file}"`,
      named === 'content-type'
        ? `Content-Disposition: ${disposition}`
        : `Content-Disposition: ${disposition}; filename="${file}"`,
      'Content-Transfer-Encoding: base64',
      '',
      ...(Buffer.from(body)
        .toString('base64')
        .match(/.{1,76}/g) ?? []),
    ].join('\r\n')
  })
const harmlessLeaf = fc.oneof(
  fc
    .stringMatching(/^[A-Za-z0-9 .,!?]{0,200}$/)
    .map((body) => ['Content-Type: text/plain; charset=us-ascii', '', body].join('\r\n')),
  fc.tuple(safeName, fc.uint8Array({ maxLength: 1024 })).map(([name, body]) =>
    [
      `Content-Type: application/pdf; name="${name}.pdf"`,
      `Content-Disposition: attachment; filename="${name}.pdf"`,
      'Content-Transfer-Encoding: base64',
      '',
      ...(Buffer.from(body)
        .toString('base64')
        .match(/.{1,76}/g) ?? []),
    ].join('\r\n'),
  ),
)
type Tree = { leaf: string } | { subtype: string; children: Tree[] }
const { tree: harmlessTree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    harmlessLeaf.map((body) => ({ leaf: body })),
    fc.record({
      subtype: fc.constantFrom('mixed', 'alternative', 'related'),
      children: fc.array(tie('tree'), { minLength: 1, maxLength: 3 }),
    }),
  ),
}))

/** Puts the executable into the tree along `path` (child indexes, wrapping as needed). */
function insertExecutable(tree: Tree, executable: string, path: readonly number[]): Tree {
  if ('leaf' in tree) return { subtype: 'mixed', children: [tree, { leaf: executable }] }
  const [index = 0, ...rest] = path
  const at = index % (tree.children.length + 1)
  const children = [...tree.children]
  const child = children[at]
  if (child === undefined || rest.length === 0) children.splice(at, 0, { leaf: executable })
  else children[at] = insertExecutable(child, executable, rest)
  return { ...tree, children }
}

function renderTree(tree: Tree, counter = { next: 0 }): string {
  if ('leaf' in tree) return tree.leaf
  counter.next += 1
  const boundary = `=_wf_${counter.next}_${'x'.repeat(counter.next % 5)}`
  return [
    `Content-Type: multipart/${tree.subtype}; boundary="${boundary}"`,
    '',
    ...tree.children.flatMap((child) => [`--${boundary}`, renderTree(child, counter)]),
    `--${boundary}--`,
    '',
  ].join('\r\n')
}

const wellFormedWithExecutable = fc
  .record({
    tree: harmlessTree,
    executable: executableLeaf,
    path: fc.array(fc.nat(3), { maxLength: 4 }),
  })
  .map(({ tree, executable, path }) => {
    const withExecutable = insertExecutable(
      'leaf' in tree ? { subtype: 'mixed', children: [tree] } : tree,
      executable,
      path,
    )
    return latin1(
      [
        'From: Sam Sender <sam@sender.example>',
        'To: alice@example.com',
        'Subject: generated',
        'MIME-Version: 1.0',
        renderTree(withExecutable),
      ].join('\r\n'),
    )
  })

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('any bytes as the stored message, through the real handler', () => {
  it('random bytes up to 64 KB: resolves with one outcome line', async () => {
    await fc.assert(
      fc.asyncProperty(randomBytes, async (bytes) => {
        tally('random bytes', (await decideBytes(bytes)).outcome)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('MIME-ish token soup: resolves with one outcome line', async () => {
    await fc.assert(
      fc.asyncProperty(tokenSoup, async (bytes) => {
        tally('token soup', (await decideBytes(bytes)).outcome)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('broken MIME trees (bad boundaries, nesting, encodings, line ends, truncation): one outcome line', async () => {
    await fc.assert(
      fc.asyncProperty(brokenMime, async (bytes) => {
        const { outcome, disposition } = await decideBytes(bytes)
        tally('broken MIME', outcome)
        // Only the content rules can refuse alice; a top-level multipart/report turns that bounce
        // into a drop (guard autoSubmitted).
        expect(['accept', 'bounce:no-executables', 'unreadable']).toContain(
          outcome.replace(/^drop:no-executables:autoSubmitted$/, 'bounce:no-executables'),
        )
        expect(disposition).toBe(
          outcome === 'accept' || outcome === 'unreadable' ? 'CONTINUE' : 'STOP_RULE_SET',
        )
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('a well-formed message with an executable anywhere in its MIME tree is bounced', async () => {
    await fc.assert(
      fc.asyncProperty(wellFormedWithExecutable, async (bytes) => {
        const { outcome } = await decideBytes(bytes)
        tally('well-formed with executable', outcome)
        expect(outcome, Buffer.from(bytes).toString('latin1')).toBe('bounce:no-executables')
      }),
      { numRuns: NUM_RUNS },
    )
  })
})
