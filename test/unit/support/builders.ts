// Builders for unit tests: received messages, facts, parsed content, and rule sets compiled from
// a YAML string through the real loader (schema + compiler), with pattern files held in memory.

import * as yaml from 'yaml'
import { re2PatternEngine } from '../../../src/adapters/re2-pattern-engine.js'
import { type Config, type ConfigFiles, loadConfig } from '../../../src/config/load-config.js'
import type {
  AttachmentInfo,
  HeaderField,
  MessageContent,
  MessageFacts,
  ReceivedMessage,
  Verdicts,
} from '../../../src/domain/message.js'
import type { RuleSet } from '../../../src/domain/rule-set.js'

export const RECEIVED_AT = new Date('2026-11-20T14:00:12.423Z')

export const ALL_PASS: Verdicts = { spam: 'PASS', virus: 'PASS', spf: 'PASS', dkim: 'PASS', dmarc: 'PASS' }

export function header(name: string, value: string): HeaderField {
  return { name: name.toLowerCase(), value }
}

type MessageOverrides = Omit<Partial<ReceivedMessage>, 'verdicts'> & { verdicts?: Partial<Verdicts> }

export function receivedMessage(overrides: MessageOverrides = {}): ReceivedMessage {
  const { verdicts, ...rest } = overrides
  return {
    messageId: 'o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1',
    receivedAt: RECEIVED_AT,
    envelopeSender: 'sender@sender.example',
    recipients: ['alice@example.com'],
    headers: [
      header('From', 'Sam Sender <sam@sender.example>'),
      header('Subject', 'hello'),
      header('Content-Type', 'text/plain; charset=utf-8'),
    ],
    headersTruncated: false,
    fromAddresses: ['sam@sender.example'],
    invocationType: 'RequestResponse',
    ...rest,
    verdicts: { ...ALL_PASS, ...verdicts },
  }
}

export function content(overrides: Partial<MessageContent> = {}): MessageContent {
  return {
    sizeBytes: 2048,
    headers: [
      header('From', 'Sam Sender <sam@sender.example>'),
      header('Subject', 'hello'),
      header('Content-Type', 'multipart/mixed; boundary=x'),
    ],
    fromAddresses: ['sam@sender.example'],
    attachments: [],
    ...overrides,
  }
}

export function attachment(
  filename: string | undefined,
  contentType: string,
  sizeBytes = 100,
): AttachmentInfo {
  return filename === undefined ? { contentType, sizeBytes } : { filename, contentType, sizeBytes }
}

export function facts(
  message: ReceivedMessage = receivedMessage(),
  extra: { sizeBytes?: number; content?: MessageContent } = {},
): MessageFacts {
  return { message, ...extra }
}

export const RULES_DIR = '/rules'
export const RULES_PATH = `${RULES_DIR}/bounce-rules.yml`

/** A ConfigFiles over a map of absolute paths; a missing path throws like fs does. */
export function memoryFiles(files: Readonly<Record<string, string>>): ConfigFiles & { reads: string[] } {
  const reads: string[] = []
  return {
    reads,
    yaml,
    readText(path: string): string {
      reads.push(path)
      const text = files[path]
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`)
      return text
    },
  }
}

export interface LoadOptions {
  /** Pattern files by path relative to the rules file's directory. */
  readonly lists?: Readonly<Record<string, string>>
  readonly env?: Readonly<Record<string, string | undefined>>
}

/** Loads a YAML rules file held in memory as `/rules/bounce-rules.yml`, with a message store set. */
export function loadFromYaml(yaml: string, options: LoadOptions = {}): Config {
  const files: Record<string, string> = { [RULES_PATH]: yaml }
  for (const [name, text] of Object.entries(options.lists ?? {})) files[`${RULES_DIR}/${name}`] = text
  return loadConfig(
    { MAIL_BUCKET: 'mail-bucket', IDEMPOTENCY_TABLE: 'ledger', ...options.env },
    memoryFiles(files),
    RULES_DIR,
    re2PatternEngine,
  )
}

export function ruleSetFromYaml(yaml: string, options: LoadOptions = {}): RuleSet {
  return loadFromYaml(yaml, options).ruleSet
}

/** A rule set from just the `rules:` list, with a bounce sender; `lists` are its pattern files. */
export function ruleSet(
  rules: string,
  { lists = {}, preamble = '' }: { lists?: Record<string, string>; preamble?: string } = {},
): RuleSet {
  return ruleSetFromYaml(rulesYaml(rules, preamble), { lists })
}

/** A rule set from just the `rules:` list (and optional `safety:`), with a bounce sender. */
export function rulesYaml(rules: string, preamble = ''): string {
  return `bounceSender: mailer-daemon@example.com\nreportingMta: mx.example.com\n${preamble}\nrules:\n${rules}`
}
