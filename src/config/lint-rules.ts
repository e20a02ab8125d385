import type { Condition, Rule } from '../domain/rules.js'
import type { ConfigProblem } from './problems.js'

/**
 * Rules that are valid but risky: `ses-bouncer validate` prints these, and the function logs them
 * in one warning at cold start. Each names the rule as problems do (`rules[2] "name"`).
 */
export function lintRules(rules: readonly Rule[]): ConfigProblem[] {
  const warnings: ConfigProblem[] = []
  const warn = (index: number, message: string) => {
    warnings.push({ path: `rules[${index}]`, rule: rules[index]?.name ?? '', message })
  }
  let always: { index: number; rule: Rule } | undefined
  rules.forEach((rule, index) => {
    if (always !== undefined) {
      const earlier = `rules[${always.index}] "${always.rule.name}"`
      // Bounce rules pass over postmaster (RFC 5321 §4.5.1) and addresses without a domain, so an
      // unconditional bounce still leaves those to the accept and drop rules after it.
      if (always.rule.action.kind !== 'bounce' || rule.action.kind === 'bounce') {
        warn(index, `can never match: ${earlier} before it matches every recipient`)
      } else {
        warn(
          index,
          `only postmaster and addresses without a domain reach it: ${earlier} bounces every other recipient`,
        )
      }
    }
    if (rule.conditions.length === 0 && always === undefined) always = { index, rule }
    if (
      rule.action.kind === 'accept' &&
      rule.conditions.some(isFrom) &&
      !rule.conditions.some(isAuthenticated)
    ) {
      warn(
        index,
        'accepts on the From header alone, which anyone can forge: add verdict: { dmarc: PASS } so only mail the domain signed is let through',
      )
    }
    if (rule.action.kind === 'bounce' && !rule.conditions.some(narrowsWhoOrWhat)) {
      warn(
        index,
        `bounces every message${rule.conditions.length === 0 ? '' : ' its verdicts match'}, whoever it was for: add a recipient, sender or content condition, or drop instead`,
      )
    }
  })
  return warnings
}

function isFrom(condition: Condition): boolean {
  return condition.kind === 'address' && condition.field === 'from'
}

/** DMARC (or DKIM) PASS is what ties the From domain to the sender; SPF only vouches for MAIL FROM. */
function isAuthenticated(condition: Condition): boolean {
  return (
    condition.kind === 'verdict' &&
    (condition.verdict === 'dmarc' || condition.verdict === 'dkim') &&
    [...condition.statuses].every((status) => status === 'PASS')
  )
}

/** Conditions on the recipient, the sender or the message itself; verdicts alone say neither. */
function narrowsWhoOrWhat(condition: Condition): boolean {
  return condition.kind !== 'verdict' && condition.kind !== 'dmarcPolicy'
}
