/**
 * `npm run demo`: every sample event in events/ through the real bounce handler (middy,
 * Powertools, the rules in events/bounce-rules.yml, messages read from events/), in dry run, on
 * this machine with no AWS account. Prints what would be bounced, dropped or accepted, and why.
 * `npm run demo -- --logs` also prints every log line the handler wrote, as CloudWatch Logs
 * would keep it (LOG_ADDRESSES applies, as deployed).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatTable } from '../src/cli/table.js'
import type { DecisionSummary } from '../src/domain/decision.js'
import { captureOutput, lambdaContext } from '../test/support/lambda.js'
import { useOfflineEnvironment } from './local-env.js'
import { sendingHealthSummary } from './sending-health-demo.js'

const root = join(import.meta.dirname, '..')
const eventsDir = join(root, 'events')

useOfflineEnvironment({
  RULES_FILE: join(eventsDir, 'bounce-rules.yml'),
  MAIL_DIR: eventsDir,
  DRY_RUN: 'true',
  POWERTOOLS_METRICS_DISABLED: 'true',
})

interface OutcomeLine {
  wouldReturn?: string
  factsRead?: string
  recipients?: DecisionSummary[]
  recipientsNeverBounced?: { recipient: string; problem: string }[]
  bounce?: { outcome: string; wouldSend?: { BouncedRecipientInfoList: unknown[] } }
}

const receiptEvents = readdirSync(eventsDir)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({
    name: file.slice(0, -5),
    event: JSON.parse(readFileSync(join(eventsDir, file), 'utf8')),
  }))
  // Receipt events, even those SES sent without eventSource; not the schedule, the queued bounce
  // (the sender function's SQS event) or the data files.
  .filter(({ event }) => event?.Records?.[0]?.ses !== undefined)

const showLogs = process.argv.slice(2).includes('--logs')

// Cold start logs one warning (no idempotency table): expected here, kept out of the table.
const coldStart = captureOutput()
const { handler } = await import('../handlers/bounce.js').finally(coldStart.restore)
const logLines = coldStart
  .text()
  .split('\n')
  .filter((line) => line.startsWith('{'))

const rows: string[][] = []
const notes: string[] = []
let wouldSend = 0
for (const { name, event } of receiptEvents) {
  const output = captureOutput()
  const { disposition } = await handler(event, lambdaContext(30_000, 'ses-bouncer-demo-bounce')).finally(
    output.restore,
  )
  const lines = output.lines()
  logLines.push(
    ...output
      .text()
      .split('\n')
      .filter((line) => line.startsWith('{')),
  )
  const line = lines.find((entry) => Array.isArray(entry.recipients)) as OutcomeLine | undefined
  const problems = lines.find((entry) => Array.isArray(entry.problems))?.problems as string[] | undefined
  if (problems !== undefined) {
    rows.push([name, '-', 'not usable', '-', '-', '-', '-', disposition])
    notes.push(`${name}: not usable, nothing read or sent: ${problems.join('; ')}`)
  }
  for (const { recipient, problem } of line?.recipientsNeverBounced ?? []) {
    notes.push(`${name}: ${recipient} is never bounced (${problem}: SES never sends such a recipient)`)
  }
  if (line?.bounce?.outcome === 'dry-run') wouldSend += 1
  for (const recipient of line?.recipients ?? []) {
    rows.push([
      name,
      recipient.recipient,
      recipient.action,
      recipient.rule ?? '-',
      recipient.status ?? '-',
      recipient.guard ?? '-',
      line?.factsRead ?? '-',
      line?.wouldReturn ?? '-',
    ])
  }
}

console.log(
  `ses-bouncer demo: ${receiptEvents.length} sample events through the real handler (dry run, no AWS)\n`,
)
console.log(
  formatTable(['case', 'recipient', 'decision', 'rule', 'status', 'guard', 'read', 'disposition'], rows),
)
console.log(
  `\n${wouldSend} SendBounce request(s) would be sent (one per message, every bounced recipient in it).` +
    '\ndecision: after the safety guard; guard: why a bounce became a silent drop; read: what the decision needed' +
    '\n(event = the SES event alone, size = object size, content = the parsed message).',
)
if (notes.length > 0) console.log(`\n${notes.join('\n')}`)
if (showLogs) {
  console.log(
    `\nThe ${logLines.length} log lines the handler wrote (LOG_ADDRESSES=${process.env.LOG_ADDRESSES ?? 'full'}):`,
  )
  console.log(logLines.join('\n'))
}

console.log(`\n${await sendingHealthSummary()}`)
