/**
 * `npm run -s fresh-event <case>`: prints events/<case>.json with its receipt time set to now.
 * SendBounce refuses messages received more than 24 hours ago, so the dated samples show
 * `expired` when dry run is off; a fresh copy shows the real call. For the bounce queue's sample
 * (`queued-bounce`) each queued bounce is received and queued now.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const name = process.argv[2]
if (name === undefined) {
  console.error('usage: npm run -s fresh-event <case>   (a file name in events/ without .json)')
  process.exit(2)
}
const event = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'events', `${name}.json`), 'utf8'))
const now = new Date().toISOString()
for (const record of event.Records ?? []) {
  if (record.eventSource === 'aws:sqs') {
    const body = JSON.parse(record.body)
    body.receivedAt = now
    body.queuedAt = now
    body.request.MessageDsn.ArrivalDate = now
    record.body = JSON.stringify(body)
    continue
  }
  record.ses.mail.timestamp = now
  record.ses.receipt.timestamp = now
}
console.log(JSON.stringify(event, null, 2))
