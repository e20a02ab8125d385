import type { BounceSettings } from './bounce-request.js'
import { conditionCost, type DeferredPattern, type FactLevel, type Rule, type RuleAction } from './rules.js'
import type { SafetySettings } from './safety.js'

export type Mode = 'enforce' | 'dry-run'

/** The operator's rules file, compiled: what the handler decides with. */
export interface RuleSet {
  readonly rules: readonly Rule[]
  readonly safety: SafetySettings
  readonly bounce: BounceSettings
  readonly mode: Mode
  /** What becomes of a recipient the rules could not settle because a limit cut the message. */
  readonly onUnreadable: RuleAction
  /** The `matches` patterns of the rules, to compile before the first decision. */
  readonly patterns: readonly DeferredPattern[]
}

/** The most a rule can ask of the stored message, to tell at load time whether a store is needed. */
export function factsRulesMayNeed(rules: readonly Rule[]): FactLevel {
  const costs = new Set(rules.flatMap((rule) => rule.conditions.map(conditionCost)))
  if (costs.has('content')) return 'content'
  return costs.has('size') ? 'size' : 'event'
}
