import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { parseMessage } from '../adapters/mime-parser.js'
import { invalidEventFrom, receivedMessageFrom, SesReceiptEventSchema } from '../adapters/ses-event.js'
import { receivedMessageFromStored, type StoredMessageOverrides } from '../adapters/stored-message.js'
import {
  DMARC_POLICIES,
  type DmarcPolicy,
  type ReceivedMessage,
  VERDICT_NAMES,
  VERDICT_STATUSES,
} from '../domain/message.js'
import { evaluateMessage, type RecipientReport, reportRecipients } from './evaluate.js'
import { loadRules } from './rules.js'
import { formatTable } from './table.js'
import { UsageError } from './usage.js'

export interface CheckOptions {
  readonly messages: readonly string[]
  readonly rules: string
  readonly event?: string
  readonly recipients: readonly string[]
  readonly sender?: string
  readonly verdicts: readonly string[]
  readonly dmarcPolicy?: string
  readonly json: boolean
}

interface MessageReport {
  readonly message: string
  readonly messageId: string
  readonly sender: string
  readonly disposition: string
  readonly bounceRequest: unknown
  readonly recipients: readonly RecipientReport[]
}

/** `ses-bouncer check`: what the function would do with these messages, recipient by recipient. */
export async function check(
  options: CheckOptions,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  const overrides = parseOverrides(options)
  const rules = await loadRules(options.rules, env)
  const event = options.event === undefined ? undefined : await readEvent(options.event)
  const reports: MessageReport[] = []
  for (const path of options.messages) {
    const content = await parseMessage(createReadStream(path), AbortSignal.timeout(60_000))
    const stored = receivedMessageFromStored(basename(path).replace(/\.eml$/i, ''), content, overrides)
    const message = event === undefined ? stored : withOverrides(event, overrides)
    const outcome = await evaluateMessage(rules.ruleSet, message, content)
    reports.push({
      message: path,
      messageId: message.messageId,
      sender: message.envelopeSender,
      disposition: outcome.decidedDisposition,
      bounceRequest: outcome.bounce.kind === 'dry-run' ? outcome.bounce.request : null,
      recipients: reportRecipients(outcome),
    })
  }
  if (options.json) return JSON.stringify(reports, null, 2)
  const rows = reports.flatMap((report) =>
    report.recipients.map((recipient) => [
      basename(report.message),
      recipient.recipient,
      recipient.decision,
      recipient.rule ?? '-',
      recipient.status ?? '-',
      recipient.guard ?? '-',
      report.disposition,
      recipient.diagnostic ?? '-',
    ]),
  )
  return `${formatTable(['message', 'recipient', 'decision', 'rule', 'status', 'guard', 'returns', 'diagnostic'], rows)}\n\nreturns: the disposition the function would give SES for the message (dry run: nothing was sent).`
}

async function readEvent(path: string): Promise<ReceivedMessage> {
  let json: unknown
  try {
    json = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw new UsageError(`cannot read the event ${path}: ${(error as Error).message}`)
  }
  const parsed = SesReceiptEventSchema.safeParse(json)
  if (!parsed.success) throw invalidEventFrom(parsed.error.issues)
  return receivedMessageFrom(parsed.data)
}

function parseOverrides(options: CheckOptions): StoredMessageOverrides {
  const verdicts: Record<string, string> = {}
  for (const text of options.verdicts) {
    const [name = '', status = ''] = text.split('=', 2)
    if (
      !(VERDICT_NAMES as readonly string[]).includes(name.toLowerCase()) ||
      !(VERDICT_STATUSES as readonly string[]).includes(status.toUpperCase())
    ) {
      throw new UsageError(
        `--verdict ${text}: expected NAME=STATUS, NAME one of ${VERDICT_NAMES.join(', ')}, STATUS one of ${VERDICT_STATUSES.join(', ')}`,
      )
    }
    verdicts[name.toLowerCase()] = status.toUpperCase()
  }
  if (
    options.dmarcPolicy !== undefined &&
    !(DMARC_POLICIES as readonly string[]).includes(options.dmarcPolicy)
  ) {
    throw new UsageError(
      `--dmarc-policy ${options.dmarcPolicy}: expected one of ${DMARC_POLICIES.join(', ')}`,
    )
  }
  return {
    ...(options.sender === undefined ? {} : { envelopeSender: options.sender }),
    ...(options.recipients.length === 0 ? {} : { recipients: options.recipients }),
    ...(Object.keys(verdicts).length === 0 ? {} : { verdicts }),
    ...(options.dmarcPolicy === undefined ? {} : { dmarcPolicy: options.dmarcPolicy as DmarcPolicy }),
  }
}

/** With --event, the event's facts stand; only what was given on the command line replaces them. */
function withOverrides(message: ReceivedMessage, overrides: StoredMessageOverrides): ReceivedMessage {
  return {
    ...message,
    ...(overrides.envelopeSender === undefined ? {} : { envelopeSender: overrides.envelopeSender }),
    ...(overrides.recipients === undefined ? {} : { recipients: overrides.recipients }),
    ...(overrides.dmarcPolicy === undefined ? {} : { dmarcPolicy: overrides.dmarcPolicy }),
    verdicts: { ...message.verdicts, ...overrides.verdicts },
  }
}
