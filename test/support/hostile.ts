// Support for hostile-input tests: an SES event for a message stored in a MAIL_DIR, a rules
// directory built from the sample rules, peak-RSS sampling while an invocation runs, and the
// outcome lines of an invocation's log.

import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { EVENTS_DIR, receiptEvent, type SesEvent } from './events.js'
import type { LogLine } from './lambda.js'

/** `receiptEvent('accepted')` (one known recipient, alice@example.com) for another stored message. */
export function acceptedEventFor(messageId: string): SesEvent {
  const event = receiptEvent('accepted')
  event.Records[0].ses.mail.messageId = messageId
  return event
}

/**
 * The sample rules (events/bounce-rules.yml) with `too-large` raised from the demo's 256K to the
 * 10M the sample calls usual in production, written with their pattern files into `directory`.
 * Every hostile message is under 2 MB, so for a known recipient no size bounce can settle the
 * message before the attachment rule: every message has to be parsed.
 */
export async function sampleRulesForcingParse(directory: string): Promise<string> {
  const sample = await readFile(join(EVENTS_DIR, 'bounce-rules.yml'), 'utf8')
  const rules = sample.replace('size: { over: 256K }', 'size: { over: 10M }')
  if (rules === sample) throw new Error('events/bounce-rules.yml no longer has the 256K too-large rule')
  await Promise.all(
    ['mailboxes.txt', 'blocked-senders.txt'].map((file) =>
      copyFile(join(EVENTS_DIR, file), join(directory, file)),
    ),
  )
  const rulesFile = join(directory, 'bounce-rules.yml')
  await writeFile(rulesFile, rules)
  return rulesFile
}

type Decision = { recipient: string; action: string; rule: string | null; guard: string | null }

/**
 * The first recipient's outcome: `bounce:<rule>`, `drop:<rule>[:<guard>]`, `accept` (no rule) or
 * `accept:<rule>` — or `unreadable` for the error outcome line.
 */
export function outcomeOf(line: LogLine): string {
  if (line.level === 'ERROR') return 'unreadable'
  const [decision] = line.recipients as Decision[]
  if (decision === undefined) return 'none'
  return [decision.action, decision.rule, decision.guard].filter((part) => part !== null).join(':')
}

/** Lines that report a message's outcome: `message decided`, or an error line with the decisions. */
export function outcomeLines(lines: readonly LogLine[]): LogLine[] {
  return lines.filter((line) => Array.isArray(line.recipients))
}

export interface Measured<T> {
  readonly value: T
  /** Highest RSS seen while `run` was pending, minus the RSS just before it started. */
  readonly peakRssIncrease: number
  readonly ms: number
}

/**
 * Runs `run` while sampling the resident set size every `everyMs` (timers fire between the
 * parser's stream chunks), and once more at the end. RSS, not heap: Buffers live outside the
 * V8 heap, and a parser that held a whole message or attachment would hold it there.
 */
export async function measurePeakRss<T>(run: () => Promise<T>, everyMs = 2): Promise<Measured<T>> {
  const baseline = process.memoryUsage.rss()
  let peak = baseline
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }
  const sampler = setInterval(sample, everyMs)
  const started = performance.now()
  try {
    const value = await run()
    sample()
    return { value, peakRssIncrease: peak - baseline, ms: performance.now() - started }
  } finally {
    clearInterval(sampler)
  }
}

/** Rejects with a clear message when `promise` has not settled within `ms`: a hang fails fast. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

export const MB = 2 ** 20

/**
 * The SES event SES would send for `bytes`: its top-level header fields as far as 10 KB go
 * (`headersTruncated` beyond, as SES does), From and Subject in commonHeaders, one known recipient
 * (alice@example.com). A sender controls all of it.
 */
export function sesEventForMessage(messageId: string, bytes: Buffer): SesEvent {
  const event = acceptedEventFor(messageId)
  const { mail } = event.Records[0].ses
  let end = bytes.indexOf('\r\n\r\n')
  if (end === -1) end = bytes.indexOf('\n\n')
  const block = bytes.subarray(0, end === -1 ? bytes.length : end).toString('latin1')
  const headers: { name: string; value: string }[] = []
  let size = 0
  let truncated = false
  for (const field of block.split(/\r?\n(?![ \t])/)) {
    const colon = field.indexOf(':')
    if (colon < 1) continue
    const name = field.slice(0, colon)
    const value = field
      .slice(colon + 1)
      .replace(/\r?\n/g, '')
      .trim()
    size += name.length + value.length
    if (size > 10 * 1024) {
      truncated = true
      break
    }
    headers.push({ name, value })
  }
  const values = (wanted: string) =>
    headers.filter((header) => header.name.toLowerCase() === wanted).map((header) => header.value)
  mail.headers = headers
  mail.headersTruncated = truncated
  mail.commonHeaders = {
    ...(values('from').length > 0 ? { from: values('from') } : {}),
    ...(values('subject').length > 0 ? { subject: values('subject')[0] } : {}),
    to: ['alice@example.com'],
  }
  return event
}
