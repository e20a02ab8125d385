import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export const EVENTS_DIR = join(import.meta.dirname, '..', '..', 'events')

export interface Expected {
  messageId: string
  disposition: 'STOP_RULE_SET' | 'CONTINUE'
  recipients: Record<
    string,
    { action: string; rule: string | null; guard: string | null; status: string | null }
  >
  /** Set for an event the handler cannot use: the problems it names, in order. */
  problems?: string[]
}

export const expectedOutcomes: Record<string, Expected> = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'events-expected.json'), 'utf8'),
)

/** The receipt cases in events/ (scheduled events and data files excluded). */
export function receiptCases(): string[] {
  return readdirSync(EVENTS_DIR)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .filter((name) => name in expectedOutcomes)
    .sort()
}

// biome-ignore lint/suspicious/noExplicitAny: SES events are checked by the handler's schema, not here
export type SesEvent = any

/** The case's event as SES would send it now: SendBounce refuses mail older than 24 hours. */
export function receiptEvent(name: string, receivedAt = new Date()): SesEvent {
  const event = JSON.parse(readFileSync(join(EVENTS_DIR, `${name}.json`), 'utf8'))
  const ses = event.Records[0].ses
  ses.mail.timestamp = receivedAt.toISOString()
  ses.receipt.timestamp = receivedAt.toISOString()
  return event
}

export function messageBytes(messageId: string): Buffer {
  return readFileSync(join(EVENTS_DIR, `${messageId}.eml`))
}
