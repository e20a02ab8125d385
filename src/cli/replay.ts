import { basename } from 'node:path'
import { SingleBar } from 'cli-progress'
import { parseMessage } from '../adapters/mime-parser.js'
import { s3Client } from '../adapters/s3-client.js'
import { receivedMessageFromStored } from '../adapters/stored-message.js'
import { listFolderMessages, listS3Messages, type StoredMessage } from '../adapters/stored-messages.js'
import { evaluateMessage } from './evaluate.js'
import { loadRules } from './rules.js'
import { formatTable } from './table.js'

export interface ReplayOptions {
  readonly source: string
  readonly rules: string
  readonly json: boolean
  readonly progress: boolean
  readonly concurrency: number
}

export interface ReplaySummary {
  source: string
  rules: string
  messages: number
  recipients: number
  /** Messages for which the function would have called SendBounce. */
  bounceMessages: number
  byRule: { rule: string | null; decision: string; recipients: number; messages: number }[]
  guards: Record<string, number>
  unreadable: { message: string; error: string }[]
}

/** `ses-bouncer replay`: every stored message through the rules in dry run, summarised. */
export async function replay(
  options: ReplayOptions,
  env: Readonly<Record<string, string | undefined>>,
  progressStream: NodeJS.WriteStream = process.stderr,
): Promise<string> {
  const rules = await loadRules(options.rules, env)
  const messages = await listMessages(options.source, env)
  const summary: ReplaySummary = {
    source: options.source,
    rules: rules.path,
    messages: 0,
    recipients: 0,
    bounceMessages: 0,
    byRule: [],
    guards: {},
    unreadable: [],
  }
  const byRule = new Map<string, ReplaySummary['byRule'][number] & { seen: Set<string> }>()
  const bar = options.progress
    ? new SingleBar({
        stream: progressStream,
        format: 'replay [{bar}] {value}/{total} messages | {eta_formatted} left',
        hideCursor: true,
      })
    : undefined
  bar?.start(messages.length, 0)

  const replayOne = async (stored: StoredMessage): Promise<void> => {
    try {
      const signal = AbortSignal.timeout(60_000)
      const content = await parseMessage(await stored.open(signal), signal)
      const message = receivedMessageFromStored(basename(stored.name), content)
      const outcome = await evaluateMessage(rules.ruleSet, message, content)
      summary.messages += 1
      if (outcome.bounce.kind === 'dry-run') summary.bounceMessages += 1
      for (const decision of outcome.decisions) {
        summary.recipients += 1
        const key = `${decision.rule ?? ''}\u0000${decision.action}`
        const entry = byRule.get(key) ?? {
          rule: decision.rule ?? null,
          decision: decision.action,
          recipients: 0,
          messages: 0,
          seen: new Set<string>(),
        }
        entry.recipients += 1
        entry.seen.add(stored.name)
        entry.messages = entry.seen.size
        byRule.set(key, entry)
        if (decision.action === 'drop' && decision.guard !== undefined) {
          summary.guards[decision.guard] = (summary.guards[decision.guard] ?? 0) + 1
        }
      }
    } catch (error) {
      summary.unreadable.push({ message: stored.name, error: (error as Error).message })
    } finally {
      bar?.increment()
    }
  }

  const queue = [...messages]
  const workers = Array.from({ length: Math.max(1, options.concurrency) }, async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) await replayOne(next)
  })
  await Promise.all(workers)
  bar?.stop()

  summary.byRule = [...byRule.values()]
    .map(({ seen: _seen, ...entry }) => entry)
    .sort((a, b) => b.recipients - a.recipients || String(a.rule).localeCompare(String(b.rule)))
  return options.json ? JSON.stringify(summary, null, 2) : formatSummary(summary)
}

async function listMessages(
  source: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<StoredMessage[]> {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(source)
  if (s3 === null) return listFolderMessages(source)
  const [, bucket = '', prefix = ''] = s3
  return listS3Messages(s3Client(env.AWS_REGION ?? 'us-east-1', env), bucket, prefix)
}

function formatSummary(summary: ReplaySummary): string {
  const lines = [
    `replayed ${summary.messages} messages (${summary.recipients} recipients) from ${summary.source}`,
    `rules: ${summary.rules} (dry run: nothing was sent)`,
    '',
    formatTable(
      ['rule', 'decision', 'recipients', 'messages'],
      summary.byRule.map((entry) => [
        entry.rule ?? '(no rule)',
        entry.decision,
        String(entry.recipients),
        String(entry.messages),
      ]),
    ),
  ]
  const guards = Object.entries(summary.guards)
  if (guards.length > 0) {
    lines.push(
      '',
      formatTable(
        ['guard (bounce turned into drop)', 'recipients'],
        guards.map(([guard, count]) => [guard, String(count)]),
      ),
    )
  }
  lines.push('', `the function would have sent ${summary.bounceMessages} SendBounce request(s)`)
  if (summary.unreadable.length > 0) {
    lines.push(`${summary.unreadable.length} message(s) could not be read and would be delivered unbounced:`)
    for (const { message, error } of summary.unreadable.slice(0, 10)) lines.push(`  ${message}: ${error}`)
  }
  return lines.join('\n')
}
