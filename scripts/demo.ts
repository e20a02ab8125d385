/**
 * `npm run demo`: every sample event in events/ through the real bounce handler (middy,
 * Powertools, the rules in events/bounce-rules.yml, messages read from events/), in dry run, on
 * this machine with no AWS account. Prints what would be bounced, dropped or accepted, and why.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatTable } from '../src/cli/table.js'
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

interface RecipientRow {
  recipient: string
  action: string
  rule: string | null
  status: string | null
  guard: string | null
}

interface OutcomeLine {
  wouldReturn?: string
  factsRead?: string
  recipients?: RecipientRow[]
  bounce?: { outcome: string; wouldSend?: { BouncedRecipientInfoList: unknown[] } }
}

const receiptEvents = readdirSync(eventsDir)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({
    name: file.slice(0, -5),
    event: JSON.parse(readFileSync(join(eventsDir, file), 'utf8')),
  }))
  .filter(({ event }) => event?.Records?.[0]?.eventSource === 'aws:ses')

// Cold start logs one warning (no idempotency table): expected here, kept out of the table.
let handler: typeof import('../handlers/bounce.js').handler | undefined
await captureOutput(async () => {
  handler = (await import('../handlers/bounce.js')).handler
})

const rows: string[][] = []
let wouldSend = 0
for (const { name, event } of receiptEvents) {
  const line = outcomeLine(
    await captureOutput(() =>
      (handler as NonNullable<typeof handler>)(event, {
        functionName: 'ses-bouncer-demo-bounce',
        awsRequestId: name,
        getRemainingTimeInMillis: () => 30_000,
      } as never),
    ),
  )
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

console.log(`\n${await sendingHealthSummary()}`)

/** Runs `run` with what it writes held back, and returns the JSON log lines it wrote. */
async function captureOutput(run: () => Promise<unknown>): Promise<string[]> {
  const captured: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  const writeError = process.stderr.write.bind(process.stderr)
  const hold = ((chunk: string | Uint8Array) => {
    captured.push(String(chunk))
    return true
  }) as typeof process.stdout.write
  process.stdout.write = hold
  process.stderr.write = hold
  try {
    await run()
  } finally {
    process.stdout.write = write
    process.stderr.write = writeError
  }
  return captured
    .join('')
    .split('\n')
    .filter((text) => text.startsWith('{'))
}

function outcomeLine(lines: string[]): OutcomeLine | undefined {
  return lines.map((text) => JSON.parse(text) as OutcomeLine).find((entry) => Array.isArray(entry.recipients))
}
