import { formatProblem } from '../config/problems.js'
import { type Output, onLines } from './output.js'
import { loadRules, shown } from './rules.js'

/**
 * `ses-bouncer validate`: the rules file checked as the function checks it at cold start, then
 * linted for rules that are valid but risky. Exit status 1 on problems, and with `--strict` on
 * warnings too.
 */
export async function validate(
  path: string,
  strict: boolean,
  env: Readonly<Record<string, string | undefined>>,
  output: Output,
): Promise<number> {
  const { path: file, ruleSet, warnings, lint, patternFiles } = await loadRules(path, env)
  const names = ruleSet.rules.map((rule) => rule.name)
  const lines = [
    `${shown(file)} is valid: ${names.length} rule${names.length === 1 ? '' : 's'}${names.length > 0 ? ` (${names.join(', ')})` : ''}`,
    `mode ${ruleSet.mode}; bounces from ${ruleSet.bounce.bounceSender || '(no rule bounces)'}; Reporting-MTA ${ruleSet.bounce.reportingMta}`,
  ]
  if (patternFiles.length > 0) lines.push(`pattern files: ${patternFiles.map(shown).join(', ')}`)
  for (const warning of warnings) lines.push(`warning: ${warning}`)
  for (const warning of lint) lines.push(`warning: ${formatProblem(warning)}`)
  output.text(onLines(lines))
  return strict && lint.length > 0 ? 1 : 0
}
