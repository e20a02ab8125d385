import { dirname, extname, isAbsolute, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { factsRulesMayNeed, type RuleSet } from '../domain/rule-set.js'
import { DEFAULT_SAFETY } from '../domain/safety.js'
import { compileRules } from './compile-rules.js'
import { ConfigError, type ConfigProblem, zodProblems } from './problems.js'
import { mailAddress, type RulesFile, RulesFileSchema } from './rules-schema.js'

export type MessageStore =
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string }
  | { readonly kind: 'directory'; readonly directory: string }

export interface Config {
  readonly rulesFile: string
  readonly ruleSet: RuleSet
  readonly messageStore?: MessageStore
  readonly idempotencyTable?: string
  readonly region: string
  /** Deliberate degradations worth one line at cold start (e.g. exactly-once off). */
  readonly warnings: readonly string[]
}

export interface ConfigFiles {
  readText(path: string): string
}

const flag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', '']))
  .transform((value) => value === 'true' || value === '1' || value === 'yes')
const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional()

const EnvSchema = z.object({
  RULES_FILE: optionalText,
  MAIL_BUCKET: optionalText,
  MAIL_PREFIX: z.string().default(''),
  MAIL_DIR: optionalText,
  BOUNCE_SENDER: optionalText.pipe(mailAddress.optional()),
  DRY_RUN: flag.optional(),
  IDEMPOTENCY_TABLE: optionalText,
  AWS_REGION: optionalText,
})

export const DEFAULT_RULES_FILE = 'bounce-rules.yml'

/**
 * The whole configuration, from the environment and the rules file, checked at once: either a
 * Config or one ConfigError that lists every problem, so the function never runs on half of it.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  files: ConfigFiles,
  baseDirectory: string = process.cwd(),
): Config {
  const problems: ConfigProblem[] = []
  const vars = parseEnvironment(EnvSchema, env, problems)

  const rulesFile = resolve(baseDirectory, vars.RULES_FILE ?? DEFAULT_RULES_FILE)
  const file = readRulesFile(rulesFile, files, problems)
  const region = vars.AWS_REGION ?? 'us-east-1'
  const messageStore = messageStoreFrom(vars, baseDirectory)

  if (file === undefined) throw new ConfigError(problems)

  const rules = compileRules(
    file.rules,
    (listFile) => files.readText(isAbsolute(listFile) ? listFile : resolve(dirname(rulesFile), listFile)),
    problems,
  )
  const bounceSender = vars.BOUNCE_SENDER ?? file.bounceSender
  if (bounceSender === undefined && rules.some((rule) => rule.action.kind === 'bounce')) {
    problems.push({ path: 'bounceSender', message: 'required when a rule bounces (or set BOUNCE_SENDER)' })
  }
  const warnings: string[] = []
  const needs = factsRulesMayNeed(rules)
  if (messageStore === undefined && needs !== 'event') {
    problems.push({
      path: 'MAIL_BUCKET',
      message: `required (or MAIL_DIR): a rule tests the message ${needs === 'size' ? 'size' : 'content'}`,
    })
  } else if (messageStore === undefined) {
    warnings.push(
      'MAIL_BUCKET is not set: a message whose headers SES truncated cannot be checked and is never bounced',
    )
  }
  if (vars.IDEMPOTENCY_TABLE === undefined) {
    warnings.push('IDEMPOTENCY_TABLE is not set: exactly-once bounces and per-sender limits are off')
  }
  if (problems.length > 0) throw new ConfigError(problems)

  return {
    rulesFile,
    ruleSet: {
      rules,
      safety: { ...DEFAULT_SAFETY, ...file.safety },
      mode: vars.DRY_RUN === true ? 'dry-run' : file.mode,
      bounce: {
        bounceSender: bounceSender ?? '',
        ...(file.bounceSenderArn === undefined ? {} : { bounceSenderArn: file.bounceSenderArn }),
        // SES's own default Reporting-MTA (API reference: MessageDsn).
        reportingMta: file.reportingMta ?? `inbound-smtp.${region}.amazonaws.com`,
        ...(file.explanation === undefined ? {} : { explanation: file.explanation }),
        ...(file.extensionFields === undefined
          ? {}
          : {
              extensionFields: Object.entries(file.extensionFields).map(([Name, Value]) => ({ Name, Value })),
            }),
      },
    },
    ...(messageStore === undefined ? {} : { messageStore }),
    ...(vars.IDEMPOTENCY_TABLE === undefined ? {} : { idempotencyTable: vars.IDEMPOTENCY_TABLE }),
    region,
    warnings,
  }
}

/**
 * Each variable on its own, so one bad value is reported without hiding the others: a variable
 * that fails falls back to its default and the run stops with every problem listed.
 */
export function parseEnvironment<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
): z.infer<z.ZodObject<Shape>> {
  const values: Record<string, unknown> = {}
  for (const [name, field] of Object.entries(schema.shape)) {
    const parsed = (field as z.ZodType).safeParse(env[name])
    if (parsed.success) {
      values[name] = parsed.data
    } else {
      problems.push(...zodProblems(parsed.error, [name]))
      const fallback = (field as z.ZodType).safeParse(undefined)
      values[name] = fallback.success ? fallback.data : undefined
    }
  }
  return values as z.infer<z.ZodObject<Shape>>
}

function messageStoreFrom(vars: z.infer<typeof EnvSchema>, baseDirectory: string): MessageStore | undefined {
  if (vars.MAIL_DIR !== undefined)
    return { kind: 'directory', directory: resolve(baseDirectory, vars.MAIL_DIR) }
  if (vars.MAIL_BUCKET !== undefined)
    return { kind: 's3', bucket: vars.MAIL_BUCKET, prefix: vars.MAIL_PREFIX }
  return undefined
}

/** Parses and validates the rules file; YAML, or JSON for a `.json` file. */
export function readRulesFile(
  path: string,
  files: ConfigFiles,
  problems: ConfigProblem[],
): RulesFile | undefined {
  let text: string
  try {
    text = files.readText(path)
  } catch (error) {
    problems.push({ path: 'RULES_FILE', message: `cannot read ${path}: ${(error as Error).message}` })
    return undefined
  }
  return parseRulesText(text, extname(path).toLowerCase() === '.json' ? 'json' : 'yaml', problems)
}

export function parseRulesText(
  text: string,
  format: 'yaml' | 'json',
  problems: ConfigProblem[],
): RulesFile | undefined {
  let document: unknown
  try {
    document =
      format === 'json' ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true, prettyErrors: true })
  } catch (error) {
    problems.push({ path: '', message: `not valid ${format.toUpperCase()}: ${(error as Error).message}` })
    return undefined
  }
  const parsed = RulesFileSchema.safeParse(document ?? {})
  if (!parsed.success) {
    problems.push(...zodProblems(parsed.error))
    return undefined
  }
  return parsed.data
}
