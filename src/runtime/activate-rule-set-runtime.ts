import { Logger } from '@aws-lambda-powertools/logger'
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda'
import {
  activationRequestFrom,
  type CustomResourceResponse,
  customResourceResponse,
  type SendResponseOptions,
  sendCustomResourceResponse,
} from '../adapters/cloudformation-custom-resource.js'
import { SesActiveRuleSet } from '../adapters/ses-active-rule-set.js'
import { sesClient } from '../adapters/ses-client.js'
import {
  type ActivateRuleSet,
  type ActivationOutcome,
  makeActivateRuleSet,
} from '../app/activate-rule-set.js'
import type { ActiveRuleSet } from '../ports/receipt-rule-sets.js'
import { type Env, SERVICE_NAME } from './service.js'

/** Time kept back from the invocation's deadline to answer CloudFormation, retries included. */
const RESPONSE_RESERVE_MS = 20_000

export interface ActivateRuleSetRuntime {
  readonly logger: Logger
  /** Always answers CloudFormation (SUCCESS or FAILED); throws only when the answer cannot be delivered. */
  handleEvent(event: CloudFormationCustomResourceEvent, context: Context): Promise<CustomResourceResponse>
}

export interface ActivateRuleSetRuntimeDeps {
  readonly ruleSets?: ActiveRuleSet
  readonly response?: SendResponseOptions
}

/** The composition root of the custom resource handler, run once per cold start. */
export function createActivateRuleSetRuntime(
  env: Env = process.env,
  deps: ActivateRuleSetRuntimeDeps = {},
): ActivateRuleSetRuntime {
  const logger = new Logger({ serviceName: SERVICE_NAME })
  const region = env.AWS_REGION ?? 'us-east-1'
  const activate: ActivateRuleSet = makeActivateRuleSet({
    ruleSets: deps.ruleSets ?? new SesActiveRuleSet(sesClient(region)),
  })

  return {
    logger,
    async handleEvent(event, context) {
      const budget = context.getRemainingTimeInMillis() - RESPONSE_RESERVE_MS
      const signal = AbortSignal.timeout(Math.max(budget, 1_000))
      const where = `log stream ${context.logStreamName}`
      let response: CustomResourceResponse
      try {
        const request = activationRequestFrom(event)
        const outcome = await activate(request, signal)
        logger.info('receipt rule set activation', { requestType: event.RequestType, region, ...outcome })
        response = customResourceResponse(event, {
          status: 'SUCCESS',
          physicalResourceId: outcome.ruleSet,
          reason: `${describe(outcome)} (${where})`,
          // Returned on Create and Update alike: the template reads it with Fn::GetAtt.
          data: { PreviouslyActive: previouslyActive(outcome) },
        })
      } catch (error) {
        logger.error('receipt rule set activation failed', { requestType: event.RequestType, region, error })
        response = customResourceResponse(event, {
          status: 'FAILED',
          physicalResourceId: physicalIdOnFailure(event),
          reason: `${error instanceof Error ? error.message : String(error)} (${where})`,
        })
      }
      // Throws when CloudFormation cannot be told; Lambda's retry then runs the (idempotent) request again.
      await sendCustomResourceResponse(event.ResponseURL, response, deps.response)
      return response
    },
  }
}

function describe(outcome: ActivationOutcome): string {
  switch (outcome.kind) {
    case 'activated':
      return `activated receipt rule set ${outcome.ruleSet}${
        outcome.previouslyActive === undefined ? '' : `, replacing ${outcome.previouslyActive}`
      }`
    case 'already-active':
      return `receipt rule set ${outcome.ruleSet} is already active`
    case 'deactivated':
      return `deactivated receipt rule set ${outcome.ruleSet}; no rule set is active now`
    case 'left-alone':
      return `receipt rule set ${outcome.ruleSet} is not the active one (${outcome.active ?? 'none is'}); left as it is`
  }
}

function previouslyActive(outcome: ActivationOutcome): string {
  if (outcome.kind === 'activated') return outcome.previouslyActive ?? ''
  if (outcome.kind === 'already-active') return outcome.ruleSet
  return ''
}

/**
 * A failed Create still needs a physical id, and CloudFormation later deletes it: one that can
 * never name a rule set (no ':' is allowed in one) makes that Delete touch nothing. A failed
 * Update or Delete keeps the id it had.
 */
function physicalIdOnFailure(event: CloudFormationCustomResourceEvent): string {
  return event.RequestType === 'Create'
    ? `not-activated:${event.LogicalResourceId}`
    : event.PhysicalResourceId
}
