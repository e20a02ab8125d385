import { type ParseArgsConfig, parseArgs } from 'node:util'
import { ConfigError } from '../config/problems.js'
import { BouncerError } from '../domain/errors.js'
import { check } from './check.js'
import { replay } from './replay.js'
import { UsageError } from './usage.js'
import { validate } from './validate.js'

export const USAGE = `Usage:
  ses-bouncer check <message.eml>... --rules FILE [--event e.json] [--recipient ADDR]... [--sender ADDR]
                    [--verdict NAME=STATUS]... [--dmarc-policy none|quarantine|reject] [--json]
      What the function would do with each message, per recipient: decision, rule, status,
      diagnostic and safety guard. Facts come from --event (an SES receipt event), else from the
      message's own SES headers; --recipient, --sender, --verdict (spam|virus|spf|dkim|dmarc =
      PASS|FAIL|GRAY|PROCESSING_FAILED|DISABLED) and --dmarc-policy override them.
  ses-bouncer validate <rules-file>
      Checks a rules file as the function does at cold start; prints every problem with its path.
  ses-bouncer replay <s3://bucket/prefix | folder> --rules FILE [--json] [--concurrency N]
      Every stored message through the rules in dry run, summarised per rule, decision and guard.

Exit status: 0 done; 1 invalid rules file or unreadable input; 2 wrong usage.`

type Env = Readonly<Record<string, string | undefined>>

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** The command line, as a function of its arguments and environment (for tests and the bin). */
export async function runCli(argv: readonly string[], env: Env, isTerminal = false): Promise<CliResult> {
  try {
    const [command, ...rest] = argv
    switch (command) {
      case 'check':
        return ok(await check(checkOptions(rest), env))
      case 'validate': {
        const { positionals } = parse(rest, {})
        if (positionals.length !== 1) throw new UsageError('validate takes one rules file')
        return ok(await validate(positionals[0] ?? '', env))
      }
      case 'replay': {
        const { values, positionals } = parse(rest, {
          rules: { type: 'string' },
          json: { type: 'boolean', default: false },
          concurrency: { type: 'string', default: '4' },
        })
        if (positionals.length !== 1 || values.rules === undefined) {
          throw new UsageError('replay takes one source (s3://bucket/prefix or a folder) and --rules FILE')
        }
        const concurrency = Number(values.concurrency)
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
          throw new UsageError('--concurrency takes a whole number from 1 to 64')
        }
        return ok(
          await replay(
            {
              source: positionals[0] ?? '',
              rules: values.rules,
              json: values.json === true,
              progress: isTerminal,
              concurrency,
            },
            env,
          ),
        )
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        return ok(USAGE)
      default:
        throw new UsageError(`unknown command "${command}"`)
    }
  } catch (error) {
    if (error instanceof UsageError)
      return { code: 2, stdout: '', stderr: `ses-bouncer: ${error.message}\n\n${USAGE}\n` }
    if (error instanceof ConfigError || error instanceof BouncerError) {
      return { code: 1, stdout: '', stderr: `ses-bouncer: ${error.message}\n` }
    }
    const message = error instanceof Error ? error.message : String(error)
    return { code: 1, stdout: '', stderr: `ses-bouncer: ${message}\n` }
  }
}

function checkOptions(args: readonly string[]) {
  const { values, positionals } = parse(args, {
    rules: { type: 'string' },
    event: { type: 'string' },
    recipient: { type: 'string', multiple: true },
    sender: { type: 'string' },
    verdict: { type: 'string', multiple: true },
    'dmarc-policy': { type: 'string' },
    json: { type: 'boolean', default: false },
  })
  if (positionals.length === 0) throw new UsageError('check takes at least one message file')
  if (values.rules === undefined) throw new UsageError('check needs --rules FILE')
  return {
    messages: positionals,
    rules: values.rules,
    recipients: values.recipient ?? [],
    verdicts: values.verdict ?? [],
    json: values.json === true,
    ...(values.event === undefined ? {} : { event: values.event }),
    ...(values.sender === undefined ? {} : { sender: values.sender }),
    ...(values['dmarc-policy'] === undefined ? {} : { dmarcPolicy: values['dmarc-policy'] }),
  }
}

function parse<const T extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true } as const)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

function ok(stdout: string): CliResult {
  return { code: 0, stdout: `${stdout}\n`, stderr: '' }
}
