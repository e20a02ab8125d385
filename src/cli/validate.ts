import { loadRules } from './rules.js'

/** `ses-bouncer validate`: the rules file checked as the function checks it at cold start. */
export async function validate(
  path: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  const { path: file, ruleSet, warnings, patternFiles } = await loadRules(path, env)
  const names = ruleSet.rules.map((rule) => rule.name)
  const lines = [
    `${file} is valid: ${names.length} rule${names.length === 1 ? '' : 's'}${names.length > 0 ? ` (${names.join(', ')})` : ''}`,
    `mode ${ruleSet.mode}; bounces from ${ruleSet.bounce.bounceSender || '(no rule bounces)'}; Reporting-MTA ${ruleSet.bounce.reportingMta}`,
  ]
  if (patternFiles.length > 0) lines.push(`pattern files: ${patternFiles.join(', ')}`)
  for (const warning of warnings) lines.push(`warning: ${warning}`)
  return lines.join('\n')
}
