import { z } from 'zod'
import { DEFAULT_THRESHOLDS, type Thresholds } from '../domain/sending-health.js'
import { boundedNumber, mailAddress, optionalText, parseEnvironment } from './environment.js'
import { ConfigError, type ConfigProblem } from './problems.js'

export interface MailTag {
  readonly name: string
  readonly value: string
}

export interface QuotaMailConfig {
  readonly from: string
  readonly configurationSet?: string
  readonly tags: readonly MailTag[]
  /** Empty: crossed thresholds are only logged. */
  readonly alertTo: readonly string[]
  /** Empty: no daily digest. */
  readonly digestTo: readonly string[]
}

export interface QuotaConfig {
  readonly region: string
  readonly thresholds: Thresholds
  /** Absent when neither alerts nor the digest are configured. */
  readonly mail?: QuotaMailConfig
  readonly idempotencyTable?: string
  /** Deliberate degradations worth one line at cold start. */
  readonly warnings: readonly string[]
}

/** A percentage in (0, 100]; unset or empty takes the default. */
const percent = (fallback: number) =>
  boundedNumber(fallback, 100, {
    type: 'expected a percentage such as 5 or 0.1',
    above0: 'expected a percentage above 0',
    max: 'expected a percentage of at most 100',
  })

/** SendEmail and SendRawEmail take at most 50 recipients (API reference: SendEmail). */
const MAX_RECIPIENTS = 50

const addressList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== ''),
  )
  .pipe(z.array(mailAddress).max(MAX_RECIPIENTS, `expected at most ${MAX_RECIPIENTS} addresses`))

/** SES message tags: ASCII letters, digits, `_` and `-`, up to 256 characters (API reference: MessageTag). */
const TAG_PART = /^[A-Za-z0-9_-]{1,256}$/

const tagList = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const tags: MailTag[] = []
    for (const entry of (value ?? '').split(',').map((part) => part.trim())) {
      if (entry === '') continue
      const [name = '', tagValue, ...rest] = entry.split('=').map((part) => part.trim())
      if (tagValue === undefined || rest.length > 0 || !TAG_PART.test(name) || !TAG_PART.test(tagValue)) {
        ctx.addIssue({
          code: 'custom',
          message: `'${entry}' is not name=value with only letters, digits, _ and - (at most 256 each)`,
        })
        continue
      }
      tags.push({ name, value: tagValue })
    }
    return tags
  })

const QuotaEnvSchema = z.object({
  QUOTA_ALERT_PERCENT: percent(DEFAULT_THRESHOLDS.quotaUsedPercent),
  BOUNCE_RATE_ALERT_PERCENT: percent(DEFAULT_THRESHOLDS.bounceRatePercent),
  COMPLAINT_RATE_ALERT_PERCENT: percent(DEFAULT_THRESHOLDS.complaintRatePercent),
  ALERT_EMAIL_TO: addressList,
  ALERT_EMAIL_FROM: optionalText.pipe(mailAddress.optional()),
  DIGEST_EMAIL_TO: addressList,
  SES_CONFIGURATION_SET: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected a configuration set name (letters, digits, _ and -)')
      .optional(),
  ),
  ALERT_EMAIL_TAGS: tagList,
  IDEMPOTENCY_TABLE: optionalText,
  AWS_REGION: optionalText,
})

/**
 * The quota handler's environment, checked at once: a QuotaConfig, or one ConfigError that
 * lists every problem (those already in `problems` included).
 */
export function loadQuotaConfig(
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[] = [],
): QuotaConfig {
  const vars = parseEnvironment(QuotaEnvSchema, env, problems)
  const alertTo = vars.ALERT_EMAIL_TO ?? []
  const digestTo = vars.DIGEST_EMAIL_TO ?? []
  const from = vars.ALERT_EMAIL_FROM

  if (from === undefined && alertTo.length > 0) {
    problems.push({ path: 'ALERT_EMAIL_FROM', message: 'required when ALERT_EMAIL_TO is set' })
  }
  if (from === undefined && digestTo.length > 0) {
    problems.push({
      path: 'ALERT_EMAIL_FROM',
      message: 'required when DIGEST_EMAIL_TO is set (the digest is sent from it)',
    })
  }
  if (problems.length > 0) throw new ConfigError(problems, 'quota handler environment')

  const warnings: string[] = []
  if (alertTo.length === 0) {
    warnings.push('ALERT_EMAIL_TO is not set: crossed sending-health thresholds are only logged')
  }
  if (vars.IDEMPOTENCY_TABLE === undefined && (alertTo.length > 0 || digestTo.length > 0)) {
    warnings.push(
      'IDEMPOTENCY_TABLE is not set: "once a day" for alerts and the digest holds per warm container only; ' +
        'a cold start may send them again',
    )
  }
  const configurationSet = vars.SES_CONFIGURATION_SET
  return {
    region: vars.AWS_REGION ?? 'us-east-1',
    thresholds: {
      quotaUsedPercent: vars.QUOTA_ALERT_PERCENT,
      bounceRatePercent: vars.BOUNCE_RATE_ALERT_PERCENT,
      complaintRatePercent: vars.COMPLAINT_RATE_ALERT_PERCENT,
    },
    ...(from === undefined || (alertTo.length === 0 && digestTo.length === 0)
      ? {}
      : {
          mail: {
            from,
            ...(configurationSet === undefined ? {} : { configurationSet }),
            tags: vars.ALERT_EMAIL_TAGS ?? [],
            alertTo,
            digestTo,
          },
        }),
    ...(vars.IDEMPOTENCY_TABLE === undefined ? {} : { idempotencyTable: vars.IDEMPOTENCY_TABLE }),
    warnings,
  }
}
