import {
  type ActivationRequest,
  type ActiveRuleSet,
  AnotherRuleSetActiveError,
} from '../ports/receipt-rule-sets.js'

export type { ActivationRequest }

export type ActivationOutcome =
  /** `previouslyActive`: the set that was active before, if any. */
  | { readonly kind: 'activated'; readonly ruleSet: string; readonly previouslyActive?: string }
  | { readonly kind: 'already-active'; readonly ruleSet: string }
  | { readonly kind: 'deactivated'; readonly ruleSet: string }
  /** Delete while another set is active (or none): that one is not ours to touch. */
  | { readonly kind: 'left-alone'; readonly ruleSet: string; readonly active?: string }

export type ActivateRuleSet = (request: ActivationRequest, signal: AbortSignal) => Promise<ActivationOutcome>

/**
 * Activation that never silently turns off someone else's mail: only one receipt rule set is
 * active per Region, so activating ours stops every rule of the set active before. That is
 * refused unless it was asked for (`replaceActive`) or the set active now is this resource's own
 * previous one. Delete deactivates only while our set is still the active one: SES cannot delete
 * an active set, and any other active set is left as it is.
 */
export function makeActivateRuleSet(deps: { readonly ruleSets: ActiveRuleSet }): ActivateRuleSet {
  const { ruleSets } = deps
  return async (request, signal) => {
    const active = await ruleSets.current(signal)
    if (request.kind === 'delete') {
      if (active !== request.ruleSet) {
        return { kind: 'left-alone', ruleSet: request.ruleSet, ...(active === undefined ? {} : { active }) }
      }
      await ruleSets.activate(undefined, signal)
      return { kind: 'deactivated', ruleSet: request.ruleSet }
    }

    const { ruleSet } = request
    if (active === ruleSet) return { kind: 'already-active', ruleSet }
    const ours =
      request.kind === 'update' && request.previousRuleSet !== undefined && active === request.previousRuleSet
    if (active !== undefined && !ours && !request.replaceActive) {
      throw new AnotherRuleSetActiveError(
        `receipt rule set '${active}' is active; activating '${ruleSet}' would stop its rules. ` +
          `Add the bounce rule to it instead (--param createRuleSet=false --param ruleSet=${active}), ` +
          'or allow the switch (--param replaceActiveRuleSet=true)',
      )
    }
    await ruleSets.activate(ruleSet, signal)
    return { kind: 'activated', ruleSet, ...(active === undefined ? {} : { previouslyActive: active }) }
  }
}
