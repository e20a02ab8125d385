import { BouncerError } from '../domain/errors.js'

/**
 * The Region's one active receipt rule set (SES v1 only). CloudFormation can create a rule set
 * but cannot make it the active one; this is what the stack's custom resource does with it.
 */
export interface ActiveRuleSet {
  /** The active set's name; undefined when no set is active. */
  current(signal: AbortSignal): Promise<string | undefined>
  /** Makes `name` the active set; undefined deactivates every set, and SES then takes no mail in the Region. */
  activate(name: string | undefined, signal: AbortSignal): Promise<void>
}

/** What CloudFormation asks of the stack's active-rule-set resource, in domain words. */
export type ActivationRequest =
  | { readonly kind: 'create'; readonly ruleSet: string; readonly replaceActive: boolean }
  | {
      readonly kind: 'update'
      readonly ruleSet: string
      readonly replaceActive: boolean
      /** The set this resource activated before, if any; switching away from it replaces nothing foreign. */
      readonly previousRuleSet?: string
    }
  /** `ruleSet`: the set this resource activated (its physical id). */
  | { readonly kind: 'delete'; readonly ruleSet: string }

/** DescribeActiveReceiptRuleSet or SetActiveReceiptRuleSet failed (after the SDK's retries). */
export class RuleSetActivationError extends BouncerError {}

/** Another rule set is active and replacing it was not allowed: its rules would stop running. */
export class AnotherRuleSetActiveError extends BouncerError {}
