import { once } from 'node:events'
import { createWriteStream, type WriteStream } from 'node:fs'
import { basename } from 'node:path'
import { SingleBar } from 'cli-progress'
import { parseMessage } from '../adapters/mime-parser.js'
import { s3Client } from '../adapters/s3-client.js'
import { receivedMessageFromStored } from '../adapters/stored-message.js'
import { listFolderMessages, listS3Messages, type StoredMessage } from '../adapters/stored-messages.js'
import { evaluateMessage, type RecipientReport, reportRecipients, returns } from './evaluate.js'
import { describeEvidence, ListLines } from './explain.js'
import { unreadable } from './input.js'
import { type Output, onLines } from './output.js'
import { loadRules, shown } from './rules.js'
import { formatTable } from './table.js'
import { InputError } from './usage.js'

export interface ReplayOptions {
  readonly source: string
  readonly rules: string
  readonly json: boolean
  /** Also write one CSV row per recipient to this file. */
  readonly csv?: string
  readonly concurrency: number
}

/** One message of the replay, as `--json` prints it (one line each) and `--csv` writes it. */
export type MessageResult =
  | {
      readonly kind: 'message'
      readonly message: string
      readonly messageId: string
      readonly sender: string
      readonly disposition: string
      readonly wouldReturn?: string
      /** The function would have called SendBounce for it. */
      readonly bounce: boolean
      readonly recipients: readonly RecipientReport[]
    }
  | { readonly kind: 'message'; readonly message: string; readonly error: string }

export interface ReplaySummary {
  source: string
  rules: string
  messages: number
  recipients: number
  /** Messages for which the function would have called SendBounce. */
  bounceMessages: number
  byRule: { rule: string | null; decision: string; recipients: number; messages: number }[]
  guards: Record<string, number>
  /** Messages that name no envelope recipient (Bcc, no `Received: … for`): not decided. */
  noRecipient: string[]
  unreadable: { message: string; error: string }[]
}

/** `ses-bouncer replay`: every stored message through the rules in dry run, summarised. */
export async function replay(
  options: ReplayOptions,
  env: Readonly<Record<string, string | undefined>>,
  output: Output,
): Promise<number> {
  const rules = await loadRules(options.rules, env)
  const lists = new ListLines(rules.path)
  const messages = await listMessages(options.source, env)
  const csv = options.csv === undefined ? undefined : await openCsv(options.csv)
  const summary: ReplaySummary = {
    source: options.source,
    rules: shown(rules.path),
    messages: 0,
    recipients: 0,
    bounceMessages: 0,
    byRule: [],
    guards: {},
    noRecipient: [],
    unreadable: [],
  }
  const byRule = new Map<string, ReplaySummary['byRule'][number]>()
  const bar =
    output.progress === undefined || options.json
      ? undefined
      : new SingleBar({
          stream: output.progress,
          format: 'replay [{bar}] {value}/{total} messages | {eta_formatted} left',
          hideCursor: true,
        })
  bar?.start(messages.length, 0)

  const replayOne = async (stored: StoredMessage): Promise<MessageResult> => {
    try {
      const signal = AbortSignal.timeout(60_000)
      const content = await parseMessage(await stored.open(signal), signal)
      const message = receivedMessageFromStored(basename(stored.name).replace(/\.eml$/i, ''), content)
      const outcome = await evaluateMessage(rules.ruleSet, message, content)
      return {
        kind: 'message',
        message: stored.name,
        messageId: message.messageId,
        sender: message.envelopeSender,
        ...returns(rules.ruleSet, outcome),
        bounce: outcome.bounce.kind === 'dry-run',
        recipients: reportRecipients(outcome, lists),
      }
    } catch (error) {
      return { kind: 'message', message: stored.name, error: (error as Error).message }
    }
  }

  // Results are counted and printed in the order of the listing, whatever order they finish in.
  const results: (MessageResult | undefined)[] = []
  let printed = 0
  const record = async (result: MessageResult): Promise<void> => {
    if ('error' in result) summary.unreadable.push({ message: result.message, error: result.error })
    else if (result.recipients.length === 0) summary.noRecipient.push(result.message)
    else {
      summary.messages += 1
      if (result.bounce) summary.bounceMessages += 1
      for (const recipient of result.recipients) {
        summary.recipients += 1
        const key = `${recipient.rule ?? ''}\u0000${recipient.decision}`
        const entry = byRule.get(key) ?? {
          rule: recipient.rule,
          decision: recipient.decision,
          recipients: 0,
          messages: 0,
        }
        entry.recipients += 1
        byRule.set(key, entry)
        if (recipient.guard !== null)
          summary.guards[recipient.guard] = (summary.guards[recipient.guard] ?? 0) + 1
      }
      for (const key of new Set(result.recipients.map((r) => `${r.rule ?? ''}\u0000${r.decision}`))) {
        const entry = byRule.get(key)
        if (entry !== undefined) entry.messages += 1
      }
    }
    if (options.json) output.data(JSON.stringify(result))
    if (csv !== undefined) await writeRows(csv, result)
  }
  const flush = async (): Promise<void> => {
    for (let next = results[printed]; next !== undefined; next = results[printed]) {
      results[printed] = undefined
      printed += 1
      await record(next)
    }
  }

  let flushing = Promise.resolve()
  let queued = 0
  const workers = Array.from({ length: Math.max(1, options.concurrency) }, async () => {
    while (queued < messages.length) {
      const index = queued
      queued += 1
      const stored = messages[index]
      if (stored === undefined) break
      results[index] = await replayOne(stored)
      bar?.increment()
      flushing = flushing.then(flush)
      await flushing
    }
  })
  try {
    await Promise.all(workers)
    await flushing
  } finally {
    bar?.stop()
    if (csv !== undefined) await closeCsv(csv, options.csv ?? '')
  }

  summary.byRule = [...byRule.values()].sort(
    (a, b) => b.recipients - a.recipients || String(a.rule).localeCompare(String(b.rule)),
  )
  if (options.json) output.data(JSON.stringify({ kind: 'summary', ...summary }))
  else output.text(formatSummary(summary, rules.ruleSet.mode, options.csv))
  return 0
}

async function listMessages(
  source: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<StoredMessage[]> {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(source)
  if (s3 !== null) {
    const [, bucket = '', prefix = ''] = s3
    return listS3Messages(s3Client(env.AWS_REGION ?? 'us-east-1', env), bucket, prefix)
  }
  try {
    return await listFolderMessages(source)
  } catch (error) {
    throw unreadable(source, error)
  }
}

const CSV_HEADER = [
  'message',
  'messageId',
  'sender',
  'recipient',
  'decision',
  'rule',
  'status',
  'guard',
  'returns',
  'evidence',
  'error',
]

async function openCsv(path: string): Promise<WriteStream> {
  const stream = createWriteStream(path)
  try {
    await once(stream, 'open')
  } catch (error) {
    throw new InputError(`cannot write ${path}: ${(error as Error).message}`, { cause: error })
  }
  stream.write(`${CSV_HEADER.join(',')}\r\n`)
  return stream
}

async function writeRows(stream: WriteStream, result: MessageResult): Promise<void> {
  const rows =
    'error' in result
      ? [[result.message, '', '', '', 'unreadable', '', '', '', '', '', result.error]]
      : result.recipients.map((recipient) => [
          result.message,
          result.messageId,
          result.sender,
          recipient.recipient,
          recipient.decision,
          recipient.rule ?? '',
          recipient.status ?? '',
          recipient.guard ?? '',
          result.disposition,
          recipient.evidence.map(describeEvidence).join('; '),
          '',
        ])
  for (const row of rows) {
    if (!stream.write(`${row.map(csvCell).join(',')}\r\n`)) await once(stream, 'drain')
  }
}

async function closeCsv(stream: WriteStream, path: string): Promise<void> {
  stream.end()
  try {
    await once(stream, 'finish')
  } catch (error) {
    throw new InputError(`cannot write ${path}: ${(error as Error).message}`, { cause: error })
  }
}

/**
 * RFC 4180 quoting. A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or CR
 * first: OWASP "CSV Injection") gets a leading apostrophe: senders choose addresses and names.
 */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe
}

function formatSummary(summary: ReplaySummary, mode: string, csv: string | undefined): string {
  const lines = [
    `replayed ${summary.messages} messages (${summary.recipients} recipients) from ${summary.source}`,
    `rules: ${summary.rules} (mode ${mode}; dry run here: nothing was sent)`,
    '',
    ...formatTable(
      ['rule', 'decision', 'recipients', 'messages'],
      summary.byRule.map((entry) => [
        entry.rule ?? '(no rule)',
        entry.decision,
        String(entry.recipients),
        String(entry.messages),
      ]),
    ).split('\n'),
  ]
  const guards = Object.entries(summary.guards)
  if (guards.length > 0) {
    lines.push(
      '',
      ...formatTable(
        ['guard (bounce turned into drop)', 'recipients'],
        guards.map(([guard, count]) => [guard, String(count)]),
      ).split('\n'),
    )
  }
  lines.push('', `the function would have sent ${summary.bounceMessages} SendBounce request(s)`)
  const listed = (items: readonly string[]) => [
    ...items.slice(0, 10).map((item) => `  ${item}`),
    ...(items.length > 10 ? [`  … and ${items.length - 10} more`] : []),
  ]
  if (summary.noRecipient.length > 0) {
    lines.push(
      `${summary.noRecipient.length} message(s) name no recipient (no "Received: … for", To or Cc) and were not decided:`,
      ...listed(summary.noRecipient),
    )
  }
  if (summary.unreadable.length > 0) {
    lines.push(
      `${summary.unreadable.length} message(s) could not be read and would be delivered unbounced:`,
      ...listed(summary.unreadable.map(({ message, error }) => `${message}: ${error}`)),
    )
  }
  if (csv !== undefined) lines.push(`one row per recipient written to ${csv}`)
  return onLines(lines)
}
