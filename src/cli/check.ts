import { basename } from 'node:path'
import { parseMessage } from '../adapters/mime-parser.js'
import { invalidEventFrom, receivedMessageFrom, SesReceiptEventSchema } from '../adapters/ses-event.js'
import { receivedMessageFromStored, type StoredMessageOverrides } from '../adapters/stored-message.js'
import type { SendBounceRequest } from '../domain/bounce-request.js'
import {
  DMARC_POLICIES,
  type DmarcPolicy,
  type MessageContent,
  type ReceivedMessage,
  VERDICT_NAMES,
  VERDICT_STATUSES,
} from '../domain/message.js'
import { evaluateMessage, type RecipientReport, reportRecipients, returns } from './evaluate.js'
import { describeEvidence, describeGuard, ListLines } from './explain.js'
import { openInput, readInput } from './input.js'
import { type Output, onLines } from './output.js'
import { previewBounce } from './preview.js'
import { loadRules } from './rules.js'
import { formatTable } from './table.js'
import { InputError, UsageError } from './usage.js'

export interface FactOptions {
  readonly recipients: readonly string[]
  readonly sender?: string
  readonly verdicts: readonly string[]
  readonly dmarcPolicy?: string
}

export interface CheckOptions extends FactOptions {
  readonly messages: readonly string[]
  readonly rules: string
  readonly event?: string
  readonly json: boolean
  readonly preview: boolean
}

interface MessageReport {
  readonly message: string
  readonly messageId: string
  readonly sender: string
  /** What the function returns to SES; in dry run, CONTINUE. */
  readonly disposition: string
  /** In dry run: what it would return with `mode: enforce`. */
  readonly wouldReturn?: string
  readonly bounceRequest: SendBounceRequest | null
  readonly recipients: readonly RecipientReport[]
}

/**
 * `ses-bouncer check`: what the function would do with these messages, recipient by recipient,
 * and why. Returns the exit status: 1 when a message could not be checked.
 */
export async function check(
  options: CheckOptions,
  env: Readonly<Record<string, string | undefined>>,
  output: Output,
): Promise<number> {
  const overrides = factOverrides(options)
  const rules = await loadRules(options.rules, env)
  const lists = new ListLines(rules.path)
  const event = options.event === undefined ? undefined : await readEvent(options.event)
  const reports: MessageReport[] = []
  let failed = 0
  for (const path of options.messages) {
    const { message, content } = await readMessage(path, overrides, event)
    if (message.recipients.length === 0) {
      output.note(`ses-bouncer check: ${path}: ${NO_RECIPIENT}`)
      failed += 1
      continue
    }
    const outcome = await evaluateMessage(rules.ruleSet, message, content)
    reports.push({
      message: path,
      messageId: message.messageId,
      sender: message.envelopeSender,
      ...returns(rules.ruleSet, outcome),
      bounceRequest: outcome.bounce.kind === 'dry-run' ? outcome.bounce.request : null,
      recipients: reportRecipients(outcome, lists),
    })
  }
  if (options.json) output.data(JSON.stringify(reports, null, 2))
  else if (reports.length > 0) output.text(formatReports(reports, rules.ruleSet.mode, options))
  return failed === 0 ? 0 : 1
}

export const NO_RECIPIENT =
  'no recipient found (no "Received: … for <address>" line, no To or Cc): name one with --recipient ADDR'

/** The message parsed, with its facts from the event or from its own SES headers, and overrides. */
export async function readMessage(
  path: string,
  overrides: StoredMessageOverrides,
  event?: ReceivedMessage,
): Promise<{ message: ReceivedMessage; content: MessageContent }> {
  const content = await parseMessage(await openInput(path), AbortSignal.timeout(60_000))
  const message =
    event === undefined
      ? receivedMessageFromStored(basename(path).replace(/\.eml$/i, ''), content, overrides)
      : withOverrides(event, overrides)
  return { message, content }
}

function formatReports(reports: readonly MessageReport[], mode: string, options: CheckOptions): string {
  const rows = reports.flatMap((report) =>
    report.recipients.map((recipient) => [
      basename(report.message),
      recipient.recipient,
      recipient.decision,
      recipient.rule ?? '-',
      recipient.status ?? '-',
      recipient.guard ?? '-',
      report.wouldReturn === undefined
        ? report.disposition
        : `${report.disposition} (enforce: ${report.wouldReturn})`,
    ]),
  )
  const lines = [
    ...formatTable(['message', 'recipient', 'decision', 'rule', 'status', 'guard', 'returns'], rows).split(
      '\n',
    ),
  ]
  for (const report of reports) {
    lines.push(
      '',
      `${basename(report.message)} (envelope sender ${report.sender || '<>'}, ${factSource(options)})`,
    )
    for (const recipient of report.recipients) lines.push(...why(recipient))
    if (options.preview && report.bounceRequest !== null)
      lines.push(...previewBounce(report.bounceRequest, report.sender))
  }
  lines.push(
    '',
    mode === 'dry-run'
      ? 'returns: what the function gives SES; the rules are in dry run, so it returns CONTINUE and sends nothing (enforce: what it would return with mode: enforce).'
      : 'returns: what the function gives SES once the bounce is sent (nothing was sent here).',
  )
  return onLines(lines)
}

function why(recipient: RecipientReport): string[] {
  const decided =
    recipient.rule === null
      ? `  ${recipient.recipient}: ${recipient.decision}, no rule matched`
      : `  ${recipient.recipient}: ${recipient.decision}, rule ${recipient.rule}`
  const lines = [decided]
  if (recipient.rule !== null && recipient.evidence.length === 0) lines.push('    the rule has no conditions')
  for (const evidence of recipient.evidence) lines.push(`    ${describeEvidence(evidence)}`)
  if (recipient.guard !== null) lines.push(`    ${describeGuard(recipient.guard)}`)
  if (recipient.decision === 'bounce' && recipient.diagnostic !== null) {
    lines.push(`    diagnostic: ${recipient.diagnostic}`)
  }
  return lines
}

function factSource(options: CheckOptions): string {
  const given = [
    options.recipients.length > 0 ? '--recipient' : undefined,
    options.sender === undefined ? undefined : '--sender',
    options.verdicts.length > 0 ? '--verdict' : undefined,
    options.dmarcPolicy === undefined ? undefined : '--dmarc-policy',
  ].filter((option) => option !== undefined)
  const source =
    options.event === undefined ? "facts from the message's SES headers" : `facts from ${options.event}`
  return given.length === 0 ? source : `${source} and ${given.join(', ')}`
}

async function readEvent(path: string): Promise<ReceivedMessage> {
  let json: unknown
  const text = await readInput(path)
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new InputError(`cannot read the event ${path}: not JSON: ${(error as Error).message}`)
  }
  const parsed = SesReceiptEventSchema.safeParse(json)
  if (!parsed.success) throw invalidEventFrom(parsed.error.issues)
  return receivedMessageFrom(parsed.data)
}

/** --recipient, --sender, --verdict and --dmarc-policy, checked. */
export function factOverrides(options: FactOptions): StoredMessageOverrides {
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
