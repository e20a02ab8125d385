import { z } from 'zod'
import { boundedNumber, flag, optionalText, parseEnvironment, queueUrl } from './environment.js'
import { ConfigError, type ConfigProblem } from './problems.js'

/** The bounce sender's environment (handlers/send-bounces.ts). */
export interface SenderConfig {
  readonly region: string
  /** SendBounce calls a second for the whole account: 1 unless AWS raised it (ses-facts §1.1). */
  readonly ratePerSecond: number
  /** Exactly-once sends and the pace shared by every instance; absent: neither (a warning says so). */
  readonly idempotencyTable?: string
  /** Where an unreadable queue message goes, with its reason; absent: it is left to the queue's redrive policy. */
  readonly deadLetterQueueUrl?: string
  readonly dryRun: boolean
  readonly warnings: readonly string[]
}

/** Above this a typo is likelier than a quota AWS granted; the pace's arithmetic works in whole ms. */
const MAX_RATE = 100

const SenderEnvSchema = z.object({
  BOUNCE_RATE_PER_SECOND: boundedNumber(1, MAX_RATE, {
    type: 'expected SendBounce calls a second, such as 1 or 0.5',
    above0: 'expected a rate above 0',
    max: `expected at most ${MAX_RATE} a second`,
  }),
  IDEMPOTENCY_TABLE: optionalText,
  BOUNCE_DEAD_LETTER_URL: optionalText.pipe(queueUrl.optional()),
  DRY_RUN: flag.optional(),
  AWS_REGION: optionalText,
})

/** Checked at once: a SenderConfig, or one ConfigError listing every problem (those in `problems` too). */
export function loadSenderConfig(
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[] = [],
): SenderConfig {
  const vars = parseEnvironment(SenderEnvSchema, env, problems)
  if (problems.length > 0) throw new ConfigError(problems, 'bounce sender environment')
  const dryRun = vars.DRY_RUN === true
  const warnings: string[] = []
  if (vars.IDEMPOTENCY_TABLE === undefined && !dryRun) {
    warnings.push(
      'IDEMPOTENCY_TABLE is not set: a redelivered bounce can be sent twice, and the pace holds within this ' +
        'instance only',
    )
  }
  if (vars.BOUNCE_DEAD_LETTER_URL === undefined) {
    warnings.push(
      'BOUNCE_DEAD_LETTER_URL is not set: an unreadable queue message is retried until the queue moves it aside',
    )
  }
  return {
    region: vars.AWS_REGION ?? 'us-east-1',
    ratePerSecond: vars.BOUNCE_RATE_PER_SECOND,
    ...(vars.IDEMPOTENCY_TABLE === undefined ? {} : { idempotencyTable: vars.IDEMPOTENCY_TABLE }),
    ...(vars.BOUNCE_DEAD_LETTER_URL === undefined ? {} : { deadLetterQueueUrl: vars.BOUNCE_DEAD_LETTER_URL }),
    dryRun,
    warnings,
  }
}
