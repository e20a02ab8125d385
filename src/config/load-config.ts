import { dirname, extname, isAbsolute, resolve } from 'node:path'
import type * as Yaml from 'yaml'
import { z } from 'zod'
import { factsRulesMayNeed, type RuleSet } from '../domain/rule-set.js'
import { DEFAULT_SAFETY } from '../domain/safety.js'
import { compileOnUnreadable, compileRules, type ListReader } from './compile-rules.js'
import { compiledRulesIn } from './compiled-rules.js'
import { flag, mailAddress, optionalText, parseEnvironment, queueUrl } from './environment.js'
import { bindPatterns, checkRawPatterns, type PatternEngine, patternsOf } from './patterns.js'
import { ConfigError, type ConfigProblem } from './problems.js'
import { locateProblems, schemaProblems, type YamlLocator } from './rules-problems.js'
import { type RulesFile, RulesFileSchema } from './rules-schema.js'

export type MessageStore =
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string }
  | { readonly kind: 'directory'; readonly directory: string }

export type RulesSource =
  | { readonly kind: 'file'; readonly path: string }
  /** Loaded at cold start and re-checked at most every `refreshSeconds` (conditional GET). */
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string; readonly refreshSeconds: number }

/** What the environment says, before any rules are read. */
export interface Settings {
  readonly rulesSource: RulesSource
  readonly messageStore?: MessageStore
  readonly idempotencyTable?: string
  /** Set: decided bounces go on this SQS queue for the paced sender; unset: sent inline. */
  readonly bounceQueueUrl?: string
  readonly region: string
  readonly bounceSender?: string
  readonly dryRun: boolean
  /** Deliberate degradations worth one line at cold start (e.g. exactly-once off). */
  readonly warnings: readonly string[]
}

export interface Config {
  readonly rulesFile: string
  readonly ruleSet: RuleSet
  readonly messageStore?: MessageStore
  readonly idempotencyTable?: string
  readonly region: string
  readonly warnings: readonly string[]
}

export interface ConfigFiles {
  readText(path: string): string
  /**
   * The `yaml` package, for rules written in YAML and for the line of each problem. Passed in
   * rather than imported so that a cold start on rules compiled at package time (JSON) never
   * loads a YAML parser.
   */
  readonly yaml?: YamlParser
}

/** The parts of the `yaml` package the rules are read and their problems located with. */
export type YamlParser = Pick<typeof Yaml, 'parse'> & YamlLocator

const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/

const EnvSchema = z.object({
  RULES_FILE: optionalText,
  RULES_S3_URI: optionalText.pipe(
    z.string().regex(S3_URI, 'expected s3://bucket/key of the rules file').optional(),
  ),
  RULES_REFRESH_SECONDS: z
    .string()
    .trim()
    .regex(/^\d*$/, 'expected a number of seconds')
    .transform((value) => (value === '' ? 60 : Number(value)))
    .pipe(z.number().int().min(1).max(86_400))
    .default(60),
  MAIL_BUCKET: optionalText,
  MAIL_PREFIX: z.string().default(''),
  MAIL_DIR: optionalText,
  BOUNCE_SENDER: optionalText.pipe(mailAddress.optional()),
  DRY_RUN: flag.optional(),
  IDEMPOTENCY_TABLE: optionalText,
  BOUNCE_QUEUE_URL: optionalText.pipe(queueUrl.optional()),
  AWS_REGION: optionalText,
})

export const DEFAULT_RULES_FILE = 'bounce-rules.yml'

/** The environment's part of the configuration; every problem goes to `problems`. */
export function loadSettings(
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
  baseDirectory: string = process.cwd(),
): Settings {
  const vars = parseEnvironment(EnvSchema, env, problems)
  if (vars.RULES_FILE !== undefined && vars.RULES_S3_URI !== undefined) {
    problems.push({ path: 'RULES_S3_URI', message: 'set either RULES_FILE or RULES_S3_URI, not both' })
  }
  // Which store the operator meant cannot be guessed: reading the wrong one bounces nothing.
  if (vars.MAIL_DIR !== undefined && vars.MAIL_BUCKET !== undefined) {
    problems.push({
      path: 'MAIL_DIR',
      message: `set either MAIL_DIR (${vars.MAIL_DIR}) or MAIL_BUCKET (${vars.MAIL_BUCKET}), not both`,
    })
  }
  const [, bucket = '', key = ''] = S3_URI.exec(vars.RULES_S3_URI ?? '') ?? []
  const warnings: string[] = []
  if (vars.IDEMPOTENCY_TABLE === undefined) {
    warnings.push('IDEMPOTENCY_TABLE is not set: exactly-once bounces and per-sender limits are off')
  }
  const messageStore = messageStoreFrom(vars, baseDirectory)
  return {
    rulesSource:
      vars.RULES_S3_URI === undefined
        ? { kind: 'file', path: resolve(baseDirectory, vars.RULES_FILE ?? DEFAULT_RULES_FILE) }
        : { kind: 's3', bucket, key, refreshSeconds: vars.RULES_REFRESH_SECONDS },
    ...(messageStore === undefined ? {} : { messageStore }),
    ...(vars.IDEMPOTENCY_TABLE === undefined ? {} : { idempotencyTable: vars.IDEMPOTENCY_TABLE }),
    ...(vars.BOUNCE_QUEUE_URL === undefined ? {} : { bounceQueueUrl: vars.BOUNCE_QUEUE_URL }),
    region: vars.AWS_REGION ?? 'us-east-1',
    ...(vars.BOUNCE_SENDER === undefined ? {} : { bounceSender: vars.BOUNCE_SENDER }),
    dryRun: vars.DRY_RUN === true,
    warnings,
  }
}

/**
 * The whole configuration from the environment and a rules file on disk, checked at once: either
 * a Config or one ConfigError that lists every problem, so the function never runs on half of it.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  files: ConfigFiles,
  baseDirectory: string = process.cwd(),
  patternEngine?: PatternEngine,
): Config {
  const problems: ConfigProblem[] = []
  const settings = loadSettings(env, problems, baseDirectory)
  const { ruleSet, warnings } = loadFileRules(settings, files, problems, patternEngine)
  return {
    rulesFile: settings.rulesSource.kind === 'file' ? settings.rulesSource.path : '',
    ruleSet,
    ...(settings.messageStore === undefined ? {} : { messageStore: settings.messageStore }),
    ...(settings.idempotencyTable === undefined ? {} : { idempotencyTable: settings.idempotencyTable }),
    region: settings.region,
    warnings,
  }
}

/**
 * The rules file on disk under the environment's settings. Throws one ConfigError with every
 * problem found so far, the environment's included. Without a pattern engine, `matches` patterns
 * are left for `bindPatterns` (ruleSet.patterns) before the first decision.
 */
export function loadFileRules(
  settings: Settings,
  files: ConfigFiles,
  problems: ConfigProblem[],
  patternEngine?: PatternEngine,
): { ruleSet: RuleSet; warnings: string[] } {
  if (settings.rulesSource.kind !== 'file') {
    throw new Error('the rules come from S3 (RULES_S3_URI): load them with the S3 rules provider')
  }
  const rulesFile = settings.rulesSource.path
  const text = readRulesText(rulesFile, files, problems)
  const warnings = [...settings.warnings]
  const ruleSet =
    text === undefined
      ? undefined
      : compileRuleSet(
          text,
          formatOf(rulesFile),
          (listFile) => files.readText(resolveBeside(rulesFile, listFile)),
          settings,
          problems,
          warnings,
          patternEngine,
          files.yaml,
        )
  if (ruleSet === undefined || problems.length > 0) throw new ConfigError(problems)
  return { ruleSet, warnings }
}

/**
 * Rules text → the RuleSet the handler decides with, under the environment's overrides
 * (BOUNCE_SENDER, DRY_RUN) and checks (a store for rules that read the message). Problems and
 * warnings are appended, located in the text when the `yaml` package is given; `undefined` when
 * the text itself is invalid. Rules compiled at package time (compiled-rules.ts) carry their
 * pattern files; `readList` is then not asked.
 */
export function compileRuleSet(
  text: string,
  format: RulesFormat,
  readList: ListReader,
  settings: Pick<Settings, 'bounceSender' | 'dryRun' | 'messageStore' | 'region'>,
  problems: ConfigProblem[],
  warnings: string[] = [],
  patternEngine?: PatternEngine,
  yaml?: YamlParser,
): RuleSet | undefined {
  const before = problems.length
  const document = parseRulesDocument(text, format, problems, yaml)
  const compiled = document === undefined ? null : compiledRulesIn(document, problems)
  const file =
    compiled === null
      ? undefined
      : validateRulesDocument(compiled === undefined ? document : compiled.rules, problems, patternEngine)
  const ruleSet =
    file === undefined
      ? undefined
      : compileRulesFile(file, compiled?.readList ?? readList, settings, problems, warnings, patternEngine)
  // A compiled file's lines are nobody's to edit: its problems were located in its source.
  if (problems.length > before && yaml !== undefined && compiled === undefined)
    problems.splice(before, Infinity, ...locateProblems(text, problems.slice(before), yaml))
  return ruleSet
}

/** compileRuleSet for a rules file already parsed and validated. */
export function compileRulesFile(
  file: RulesFile,
  readList: ListReader,
  settings: Pick<Settings, 'bounceSender' | 'dryRun' | 'messageStore' | 'region'>,
  problems: ConfigProblem[],
  warnings: string[] = [],
  patternEngine?: PatternEngine,
): RuleSet {
  const rules = compileRules(file.rules, readList, problems)
  const onUnreadable = compileOnUnreadable(file.onUnreadable)
  const patterns = patternsOf(rules)
  if (patternEngine !== undefined) bindPatterns(patterns, patternEngine, problems)
  const bounceSender = settings.bounceSender ?? file.bounceSender
  if (bounceSender === undefined && rules.some((rule) => rule.action.kind === 'bounce')) {
    problems.push({ path: 'bounceSender', message: 'required when a rule bounces (or set BOUNCE_SENDER)' })
  } else if (bounceSender === undefined && onUnreadable.kind === 'bounce') {
    problems.push({
      path: 'bounceSender',
      message: 'required when onUnreadable bounces (or set BOUNCE_SENDER)',
    })
  }
  const needs = factsRulesMayNeed(rules)
  if (settings.messageStore === undefined && needs !== 'event') {
    problems.push({
      path: 'MAIL_BUCKET',
      message: `required (or MAIL_DIR): a rule tests the message ${needs === 'size' ? 'size' : 'content'}`,
    })
  } else if (settings.messageStore === undefined) {
    warnings.push(
      'MAIL_BUCKET is not set: a message whose headers SES truncated cannot be checked and is never bounced',
    )
  }
  return {
    rules,
    safety: { ...DEFAULT_SAFETY, ...file.safety },
    mode: settings.dryRun ? 'dry-run' : file.mode,
    onUnreadable,
    patterns,
    bounce: {
      bounceSender: bounceSender ?? '',
      ...(file.bounceSenderArn === undefined ? {} : { bounceSenderArn: file.bounceSenderArn }),
      // SES's own default Reporting-MTA (API reference: MessageDsn).
      reportingMta: file.reportingMta ?? `inbound-smtp.${settings.region}.amazonaws.com`,
      ...(file.explanation === undefined ? {} : { explanation: file.explanation }),
      ...(file.extensionFields === undefined
        ? {}
        : {
            extensionFields: Object.entries(file.extensionFields).map(([Name, Value]) => ({ Name, Value })),
          }),
    },
  }
}

export type RulesFormat = 'yaml' | 'json'

/** JSON for a `.json` name, YAML otherwise (YAML also reads JSON). */
export function formatOf(name: string): RulesFormat {
  return extname(name).toLowerCase() === '.json' ? 'json' : 'yaml'
}

/** Pattern files are named relative to the rules file that names them. */
export function resolveBeside(rulesFile: string, listFile: string): string {
  return isAbsolute(listFile) ? listFile : resolve(dirname(rulesFile), listFile)
}

function messageStoreFrom(vars: z.infer<typeof EnvSchema>, baseDirectory: string): MessageStore | undefined {
  if (vars.MAIL_DIR !== undefined)
    return { kind: 'directory', directory: resolve(baseDirectory, vars.MAIL_DIR) }
  if (vars.MAIL_BUCKET !== undefined)
    return { kind: 's3', bucket: vars.MAIL_BUCKET, prefix: vars.MAIL_PREFIX }
  return undefined
}

function readRulesText(path: string, files: ConfigFiles, problems: ConfigProblem[]): string | undefined {
  try {
    return files.readText(path)
  } catch (error) {
    problems.push({ path: 'RULES_FILE', message: `cannot read ${path}: ${(error as Error).message}` })
    return undefined
  }
}

export function parseRulesText(
  text: string,
  format: RulesFormat,
  problems: ConfigProblem[],
  yaml?: YamlParser,
): RulesFile | undefined {
  const document = parseRulesDocument(text, format, problems, yaml)
  return document === undefined ? undefined : validateRulesDocument(document, problems)
}

/** JSON or YAML text → the document it holds (`undefined`, with a problem, when it does not parse). */
export function parseRulesDocument(
  text: string,
  format: RulesFormat,
  problems: ConfigProblem[],
  yaml?: YamlParser,
): unknown {
  if (format === 'yaml' && yaml === undefined) {
    throw new Error('YAML rules need the yaml package: pass it in (ConfigFiles.yaml)')
  }
  try {
    const document =
      format === 'json' ? JSON.parse(text) : yaml?.parse(text, { uniqueKeys: true, prettyErrors: true })
    return document ?? {}
  } catch (error) {
    problems.push({
      path: '',
      message: `not valid ${format.toUpperCase()}: ${(error as Error).message}`,
      ...jsonPosition(text, format, error),
    })
    return undefined
  }
}

/** A parsed document checked against the rules file schema; every problem is appended. */
export function validateRulesDocument(
  document: unknown,
  problems: ConfigProblem[],
  patternEngine?: PatternEngine,
): RulesFile | undefined {
  const parsed = RulesFileSchema.safeParse(document)
  if (!parsed.success) {
    problems.push(...schemaProblems(parsed.error, document))
    if (patternEngine !== undefined) checkRawPatterns(document, patternEngine, problems)
    return undefined
  }
  return parsed.data
}

/** JSON.parse names an offset (`at position 45`); YAML's own messages already say the line. */
function jsonPosition(text: string, format: RulesFormat, error: unknown): { line?: number; column?: number } {
  const offset = format === 'json' ? /position (\d+)/.exec((error as Error).message)?.[1] : undefined
  if (offset === undefined) return {}
  const before = text.slice(0, Number(offset))
  return { line: before.split('\n').length, column: Number(offset) - before.lastIndexOf('\n') }
}
