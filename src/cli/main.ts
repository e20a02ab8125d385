import { readFileSync } from 'node:fs'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { suggestion } from '../config/rules-problems.js'
import { BouncerError } from '../domain/errors.js'
import type { InvocationType } from '../domain/message.js'
import { check } from './check.js'
import { sesEvent } from './event.js'
import { hashAddress } from './hash-address.js'
import { type Output, outputTo } from './output.js'
import { replay } from './replay.js'
import { UsageError } from './usage.js'
import { validate } from './validate.js'

type Env = Readonly<Record<string, string | undefined>>
type Options = NonNullable<ParseArgsConfig['options']>
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>

interface Command {
  readonly synopsis: string
  readonly summary: string
  readonly help: string
  readonly options: Options
  run(values: Values, positionals: string[], env: Env, output: Output): Promise<number>
}

const FACT_OPTIONS = {
  recipient: { type: 'string', multiple: true },
  sender: { type: 'string' },
  verdict: { type: 'string', multiple: true },
  'dmarc-policy': { type: 'string' },
} as const satisfies Options

const FACTS_HELP = `  --recipient ADDR         an envelope recipient (repeatable); else SES's "Received: … for <ADDR>",
                           else the To and Cc addresses
  --sender ADDR            the envelope sender (MAIL FROM); else Return-Path
  --verdict NAME=STATUS    spam, virus, spf, dkim or dmarc = PASS, FAIL, GRAY, PROCESSING_FAILED or
                           DISABLED (repeatable); else X-SES-*-Verdict, Received-SPF, Authentication-Results
  --dmarc-policy POLICY    none, quarantine or reject (SES sends it only when DMARC fails)`

const COMMANDS: Readonly<Record<string, Command>> = {
  check: {
    synopsis: 'check <message.eml>... --rules FILE [--event e.json] [--preview] [--json] [facts]',
    summary: 'what the function would do with a message, per recipient, and why',
    help: `What the function would do with each message, per recipient: decision, rule, status, safety
guard and what it returns to SES, with the evidence for each decision (the attachment name as
decoded, the header and the part of it that matched, the pattern file and line). It runs the
function's own code in dry run; nothing is sent.

  --rules FILE             the rules file (YAML or JSON), compiled as at cold start
  --event e.json           take the facts from this SES receipt event instead of the message
  --preview                show each bounce as its recipient will read it: the text and the
                           message/delivery-status fields SES builds from the SendBounce request
  --json                   the decisions, evidence and exact SendBounce request, as JSON
${FACTS_HELP}`,
    options: {
      rules: { type: 'string' },
      event: { type: 'string' },
      preview: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      ...FACT_OPTIONS,
    },
    async run(values, positionals, env, output) {
      if (positionals.length === 0) throw new UsageError('name at least one message file')
      return check(
        {
          messages: positionals,
          rules: required(values, 'rules', 'FILE'),
          json: values.json === true,
          preview: values.preview === true,
          ...(typeof values.event === 'string' ? { event: values.event } : {}),
          ...facts(values),
        },
        env,
        output,
      )
    },
  },
  replay: {
    synopsis: 'replay <s3://bucket/prefix | folder> --rules FILE [--json] [--csv FILE] [--concurrency N]',
    summary: 'stored mail through the rules in dry run, summarised per rule, decision and guard',
    help: `Every object under an S3 prefix (with your AWS credentials), or every .eml or extension-less
file in a folder, through the rules in dry run, summarised per rule, decision and guard.

  --rules FILE             the rules file
  --json                   one JSON line per message (recipients, decision, rule, guard, evidence),
                           then one line with the summary
  --csv FILE               also write one row per recipient to FILE
  --concurrency N          messages read at once, 1 to 64 (default 4)`,
    options: {
      rules: { type: 'string' },
      json: { type: 'boolean', default: false },
      csv: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
    },
    async run(values, positionals, env, output) {
      const [source] = positionals
      if (source === undefined || positionals.length > 1) {
        throw new UsageError('name one source: s3://bucket/prefix or a folder')
      }
      const concurrency = Number(values.concurrency)
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
        throw new UsageError('--concurrency takes a whole number from 1 to 64')
      }
      return replay(
        {
          source,
          rules: required(values, 'rules', 'FILE'),
          json: values.json === true,
          concurrency,
          ...(typeof values.csv === 'string' ? { csv: values.csv } : {}),
        },
        env,
        output,
      )
    },
  },
  validate: {
    synopsis: 'validate <rules-file> [--strict]',
    summary: 'check a rules file as the function does at cold start, and warn about risky rules',
    help: `Checks a rules file and the pattern files it names as the function does at cold start: every
problem with the rule, its line and column and the bad value (exit status 1). Then warns about
rules that are valid but risky: an accept on the forgeable From header alone, a rule an earlier
one always hides, a bounce rule that says nothing about recipient, sender or content.

  --strict                 exit status 1 on warnings too`,
    options: { strict: { type: 'boolean', default: false } },
    async run(values, positionals, env, output) {
      const [file] = positionals
      if (file === undefined || positionals.length > 1) throw new UsageError('name one rules file')
      return validate(file, values.strict === true, env, output)
    },
  },
  event: {
    synopsis: 'event <message.eml> [--invocation Event|RequestResponse] [--store s3://bucket/prefix] [facts]',
    summary: 'the SES receipt event for a message, for `serverless invoke local`',
    help: `Prints the SES receipt event the function would get for this message, received now: the
message's headers (at most 10 KB of them, as SES), its SES facts as check recovers them, and
the message id from the file name. Run it through the real handler:

  npx ses-bouncer event x.eml > e.json && npx serverless invoke local -f bounce -p e.json

  --message-id ID          the SES message id (default: the file name without .eml)
  --invocation TYPE        RequestResponse (default) or Event
  --store s3://bucket/prefix
                           store the message there first, as the receipt rule's S3 action does
                           (AWS_ENDPOINT_URL_S3 for a local S3); without it, the event names the
                           file for \`serverless invoke local\`
${FACTS_HELP}`,
    options: {
      'message-id': { type: 'string' },
      invocation: { type: 'string', default: 'RequestResponse' },
      store: { type: 'string' },
      ...FACT_OPTIONS,
    },
    async run(values, positionals, env, output) {
      const [message] = positionals
      if (message === undefined || positionals.length > 1) throw new UsageError('name one message file')
      const invocation = values.invocation
      if (invocation !== 'Event' && invocation !== 'RequestResponse') {
        throw new UsageError(`--invocation ${String(invocation)}: expected Event or RequestResponse`)
      }
      return sesEvent(
        {
          message,
          invocation: invocation as InvocationType,
          ...(typeof values['message-id'] === 'string' ? { messageId: values['message-id'] } : {}),
          ...(typeof values.store === 'string' ? { store: values.store } : {}),
          ...facts(values),
        },
        env,
        output,
      )
    },
  },
  'hash-address': {
    synopsis: 'hash-address <address>...',
    summary: 'the token LOG_ADDRESSES=hash logs for an address, to search the logs for it',
    help: `Prints, for each address, the token the functions log in its place with LOG_ADDRESSES=hash:
the first 96 bits of HMAC-SHA256 keyed by LOG_ADDRESS_KEY (the deployed key, from the
environment), after the normalisation the rules use, so every spelling of one mailbox (case,
+tag, BATV signature, angle brackets) gives one token. Search the logs for it.

  read -rs LOG_ADDRESS_KEY && export LOG_ADDRESS_KEY && npx ses-bouncer hash-address alice@example.com`,
    options: {},
    async run(_values, positionals, env, output) {
      output.text(hashAddress(positionals, env))
      return 0
    },
  },
}

const NAME_WIDTH = Math.max(...Object.keys(COMMANDS).map((name) => name.length))

export const USAGE = `Usage: ses-bouncer <command> [options]

${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(NAME_WIDTH + 1)} ${command.summary}`)
  .join('\n')}

Run \`ses-bouncer <command> --help\` for its options.
Exit status: 0 done; 1 invalid rules, unreadable input or a message that cannot be checked; 2 wrong usage.`

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** The command line, as a function of its arguments and environment, its output collected (tests). */
export async function runCli(argv: readonly string[], env: Env): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const code = await main(
    argv,
    env,
    outputTo(
      (text) => {
        stdout += text
      },
      (text) => {
        stderr += text
      },
    ),
  )
  return { code, stdout, stderr }
}

/** Runs one command; returns the exit status. Bad input is one or a few lines, never a stack trace. */
export async function main(argv: readonly string[], env: Env, output: Output): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined) {
    output.note(USAGE)
    return 2
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = args[0] === undefined ? undefined : COMMANDS[args[0]]
    output.text(topic === undefined ? USAGE : commandHelp(topic))
    return 0
  }
  if (name === '--version') {
    output.text(version())
    return 0
  }
  const command = COMMANDS[name]
  if (command === undefined) {
    output.note(`ses-bouncer: unknown command "${name}"\n\n${USAGE}`)
    return 2
  }
  if (args.includes('--help') || args.includes('-h')) {
    output.text(commandHelp(command))
    return 0
  }
  try {
    const { values, positionals } = parse(args, command.options)
    return await command.run(values, positionals, env, output)
  } catch (error) {
    if (error instanceof UsageError) {
      output.note(
        `ses-bouncer ${name}: ${error.message}\nusage: ses-bouncer ${command.synopsis}\n(ses-bouncer ${name} --help for more)`,
      )
      return 2
    }
    output.note(`ses-bouncer ${name}: ${error instanceof Error ? error.message : String(error)}`)
    if (!(error instanceof BouncerError) && env.SES_BOUNCER_DEBUG) output.note(String((error as Error).stack))
    return 1
  }
}

function commandHelp(command: Command): string {
  return `usage: ses-bouncer ${command.synopsis}\n\n${command.help}`
}

function parse(args: readonly string[], options: Options) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true })
  } catch (error) {
    // node:util's own wording ("Unknown option '--x'. To specify a positional argument …"), cut to its first sentence.
    const message = (error as Error).message.split('. ')[0] ?? 'wrong usage'
    const unknown = /^Unknown option '--([^']+)'/.exec(message)?.[1]
    const hint =
      unknown === undefined ? '' : suggestion(unknown, Object.keys(options)).replace(/"(.*)"/, '--$1')
    throw new UsageError(`${message}${hint}`)
  }
}

function required(values: Values, option: string, argument: string): string {
  const value = values[option]
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${option} ${argument} is required`)
  return value
}

function facts(values: Values) {
  const list = (value: Values[string]) => (Array.isArray(value) ? value.map(String) : [])
  return {
    recipients: list(values.recipient),
    verdicts: list(values.verdict),
    ...(typeof values.sender === 'string' ? { sender: values.sender } : {}),
    ...(typeof values['dmarc-policy'] === 'string' ? { dmarcPolicy: values['dmarc-policy'] } : {}),
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return `ses-bouncer ${pkg.version}`
}
