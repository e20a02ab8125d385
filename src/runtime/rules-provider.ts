import type { Logger } from '@aws-lambda-powertools/logger'
import type { S3RulesSource } from '../adapters/s3-rules-source.js'
import { patternFilesOf } from '../config/compile-rules.js'
import { lintRules } from '../config/lint-rules.js'
import {
  compileRulesFile,
  formatOf,
  parseRulesText,
  type Settings,
  type YamlParser,
} from '../config/load-config.js'
import { bindPatterns } from '../config/patterns.js'
import { ConfigError, type ConfigProblem, formatProblem } from '../config/problems.js'
import { locateProblems } from '../config/rules-problems.js'
import type { RulesFile } from '../config/rules-schema.js'
import type { RuleSet } from '../domain/rule-set.js'
import { loadPatternEngine, loadYaml } from './lazy-adapters.js'

/** The rules to decide the next message with. */
export type RulesProvider = () => Promise<RuleSet>

/** Valid but risky rules (lintRules): one warning line per load, listing them all. */
export function warnAboutRules(logger: Logger, ruleSet: RuleSet, rules: string): void {
  const warnings = lintRules(ruleSet.rules)
  if (warnings.length === 0) return
  logger.warn(
    `the rules are valid but ${warnings.length === 1 ? 'one is' : `${warnings.length} are`} risky`,
    {
      rules,
      warnings: warnings.map(formatProblem),
    },
  )
}

/**
 * Rules from a file in the package: read once, at cold start. Their `matches` patterns, if any,
 * are compiled as soon as the pattern engine has loaded (started now, so during init in Lambda); a
 * pattern the engine refuses stops every message as an invalid file would.
 */
export function fixedRules(ruleSet: RuleSet): RulesProvider {
  if (ruleSet.patterns.length === 0) return async () => ruleSet
  const ready = compilePatterns(ruleSet)
  // reported by the first message that awaits it
  ready.catch(() => undefined)
  return () => ready
}

/** Compiles a rule set's `matches` patterns, loading the pattern engine on first use. */
export async function compilePatterns(ruleSet: RuleSet, source?: string): Promise<RuleSet> {
  const pending = ruleSet.patterns.filter((pattern) => !pattern.bound)
  if (pending.length === 0) return ruleSet
  const problems: ConfigProblem[] = []
  bindPatterns(pending, await loadPatternEngine(), problems)
  if (problems.length > 0) throw new ConfigError(problems, source)
  return ruleSet
}

/**
 * Rules from a file that needs code loaded with import() (the YAML parser): loading starts now, at
 * cold start; each message waits for it. A file that does not load is logged once, as the cold
 * start of any invalid configuration is, and every invocation then fails with that error.
 */
export function fixedRulesLoading(
  logger: Logger,
  rules: string,
  load: () => Promise<{ ruleSet: RuleSet; warnings: readonly string[] }>,
): RulesProvider {
  const loading = load().then(({ ruleSet, warnings }) => {
    for (const warning of warnings) logger.warn(warning)
    warnAboutRules(logger, ruleSet, rules)
    return compilePatterns(ruleSet)
  })
  loading.catch((error: unknown) => logger.error('refusing to start: invalid configuration', { error }))
  return () => loading
}

/**
 * Rules from S3 (RULES_S3_URI): loaded on the first message and re-checked at most every
 * `refreshSeconds`. The first load must succeed (an error then stops the function, as an invalid
 * file in the package would); after that, a version that cannot be fetched or does not validate
 * is logged and the last good rules stay in force.
 */
export function s3Rules(
  source: () => Promise<S3RulesSource>,
  location: string,
  refreshSeconds: number,
  settings: Settings,
  logger: Logger,
  now: () => number = Date.now,
): RulesProvider {
  let current: RuleSet | undefined
  let checkedAt = Number.NEGATIVE_INFINITY
  let loading: Promise<RuleSet> | undefined
  const format = formatOf(location)
  // The text parsed once per version: it names the pattern files to fetch and is then compiled.
  let parsed: { text: string; file: RulesFile | undefined; problems: ConfigProblem[] } | undefined
  const parse = (text: string, yaml: YamlParser | undefined) => {
    if (parsed?.text !== text) {
      const problems: ConfigProblem[] = []
      parsed = { text, file: parseRulesText(text, format, problems, yaml), problems }
    }
    return parsed
  }

  const load = async (): Promise<RuleSet> => {
    // JSON rules need the YAML parser only to point at a problem's line
    const parser = format === 'yaml' ? await loadYaml() : undefined
    const fetched = await (await source()).fetch((text) => {
      const { file } = parse(text, parser)
      return file === undefined ? [] : patternFilesOf(file.rules)
    })
    checkedAt = now()
    if (!fetched.changed && current !== undefined) return current
    const { file, problems: parseProblems } = parse(fetched.text, parser)
    const problems = [...parseProblems]
    const warnings: string[] = []
    const ruleSet =
      file === undefined
        ? undefined
        : compileRulesFile(
            file,
            (name) => {
              const list = fetched.lists.get(name)
              if (list === undefined) throw new Error('not found')
              return list
            },
            settings,
            problems,
            warnings,
          )
    if (ruleSet === undefined || problems.length > 0) {
      throw new ConfigError(
        locateProblems(fetched.text, problems, parser ?? (await loadYaml())),
        `rules at ${location}`,
      )
    }
    await compilePatterns(ruleSet, `rules at ${location}`)
    for (const warning of warnings) logger.warn(warning)
    warnAboutRules(logger, ruleSet, location)
    logger.info('rules loaded', { rules: location, count: ruleSet.rules.length })
    current = ruleSet
    return ruleSet
  }

  return async () => {
    if (current !== undefined && now() - checkedAt < refreshSeconds * 1000) return current
    loading ??= load().finally(() => {
      loading = undefined
    })
    try {
      return await loading
    } catch (error) {
      if (current === undefined) throw error
      checkedAt = now()
      logger.error('new rules not used; keeping the last good rules', { rules: location, error })
      return current
    }
  }
}
