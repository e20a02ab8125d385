import { Logger } from '@aws-lambda-powertools/logger'
import type { Context } from 'aws-lambda'
import {
  type CustomResourceResponse,
  customResourceResponse,
  parseCustomResourceEvent,
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
  /**
   * Answers CloudFormation SUCCESS or FAILED, and changes nothing unless the whole event is valid.
   * Resolves undefined when the event names no usable response URL (logged: nobody can be told);
   * throws only when the answer cannot be delivered.
   */
  handleEvent(event: unknown, context: Context): Promise<CustomResourceResponse | undefined>
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
      const parsed = parseCustomResourceEvent(event)
      const requestType = requestTypeOf(event)
      if (!parsed.valid) {
        // Nothing was called: a malformed request changes nothing, and says why if it can.
        logger.error('rejected a malformed CloudFormation request; nothing was changed', {
          requestType,
          problems: parsed.problems,
          answered: parsed.reply !== undefined,
        })
        if (parsed.reply === undefined) return undefined
        const response = customResourceResponse(parsed.reply, {
          status: 'FAILED',
          physicalResourceId: parsed.reply.physicalIdOnFailure,
          reason: `invalid request from CloudFormation, nothing was changed: ${parsed.problems.join('; ')} (${where})`,
        })
        await sendCustomResourceResponse(parsed.reply.url, response, deps.response)
        return response
      }
      const { request, reply } = parsed
      let response: CustomResourceResponse
      try {
        const outcome = await activate(request, signal)
        logger.info('receipt rule set activation', { requestType, region, ...outcome })
        response = customResourceResponse(reply, {
          status: 'SUCCESS',
          physicalResourceId: outcome.ruleSet,
          reason: `${describe(outcome)} (${where})`,
          // Returned on Create and Update alike: the template reads it with Fn::GetAtt.
          data: { PreviouslyActive: previouslyActive(outcome) },
        })
      } catch (error) {
        logger.error('receipt rule set activation failed', { requestType, region, error })
        response = customResourceResponse(reply, {
          status: 'FAILED',
          // A failed Create gets an id that names no set; a failed Update or Delete keeps its own.
          physicalResourceId: reply.physicalIdOnFailure,
          reason: `${error instanceof Error ? error.message : String(error)} (${where})`,
        })
      }
      // Throws when CloudFormation cannot be told; Lambda's retry then runs the (idempotent) request again.
      await sendCustomResourceResponse(reply.url, response, deps.response)
      return response
    },
  }
}

/** The request type as the log shows it: a short string, or nothing. */
function requestTypeOf(event: unknown): string | undefined {
  const type =
    typeof event === 'object' && event !== null ? (event as { RequestType?: unknown }).RequestType : undefined
  return typeof type === 'string' ? type.slice(0, 64) : undefined
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
