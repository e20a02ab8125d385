import { setTimeout as sleep } from 'node:timers/promises'
import type { CloudFormationCustomResourceEvent } from 'aws-lambda'
import { z } from 'zod'
import { formatProblem, zodProblems } from '../config/problems.js'
import { BouncerError } from '../domain/errors.js'
import type { ActivationRequest } from '../ports/receipt-rule-sets.js'

/** The custom resource's properties are not what the template should have sent. */
export class InvalidCustomResourceError extends BouncerError {}

/** CloudFormation's pre-signed response URL could not be reached or refused the response. */
export class CustomResourceResponseError extends BouncerError {}

// Rule set names: letters, digits, . _ -, starting and ending with a letter or digit, at most 64
// characters (SES API reference: CreateReceiptRuleSet).
const RULE_SET_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/

const PropertiesSchema = z.object({
  RuleSetName: z.string().regex(RULE_SET_NAME, 'expected a receipt rule set name'),
  // CloudFormation passes every property as a string.
  ReplaceActive: z.enum(['true', 'false']).default('false'),
})

/** The request in domain words, or InvalidCustomResourceError naming every bad property. */
export function activationRequestFrom(event: CloudFormationCustomResourceEvent): ActivationRequest {
  if (event.RequestType === 'Delete') {
    // The physical id is the set this resource activated; the properties no longer matter.
    return { kind: 'delete', ruleSet: event.PhysicalResourceId }
  }
  const parsed = PropertiesSchema.safeParse(event.ResourceProperties)
  if (!parsed.success) {
    throw new InvalidCustomResourceError(
      `invalid properties of ${event.LogicalResourceId}: ${zodProblems(parsed.error).map(formatProblem).join('; ')}`,
    )
  }
  const { RuleSetName: ruleSet, ReplaceActive } = parsed.data
  const replaceActive = ReplaceActive === 'true'
  return event.RequestType === 'Create'
    ? { kind: 'create', ruleSet, replaceActive }
    : { kind: 'update', ruleSet, replaceActive, previousRuleSet: event.PhysicalResourceId }
}

/** The body CloudFormation expects at the pre-signed URL (AWS: crpg-ref-responses). */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED'
  readonly Reason: string
  readonly PhysicalResourceId: string
  readonly StackId: string
  readonly RequestId: string
  readonly LogicalResourceId: string
  readonly Data?: Readonly<Record<string, string>>
}

/** CloudFormation shows the reason in the stack events; the whole response may be at most 4096 bytes. */
const MAX_REASON = 1_000

export function customResourceResponse(
  event: CloudFormationCustomResourceEvent,
  result:
    | {
        readonly status: 'SUCCESS'
        readonly physicalResourceId: string
        readonly reason: string
        readonly data?: Record<string, string>
      }
    | { readonly status: 'FAILED'; readonly physicalResourceId: string; readonly reason: string },
): CustomResourceResponse {
  return {
    Status: result.status,
    Reason: result.reason.length > MAX_REASON ? `${result.reason.slice(0, MAX_REASON - 1)}…` : result.reason,
    PhysicalResourceId: result.physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    ...('data' in result && result.data !== undefined ? { Data: result.data } : {}),
  }
}

export interface SendResponseOptions {
  readonly fetch?: typeof fetch
  readonly attempts?: number
  readonly timeoutMs?: number
  readonly backoffMs?: number
}

/**
 * PUTs the response to the pre-signed S3 URL. The body goes as bytes so that fetch adds no
 * Content-Type: the URL's signature covers none (cfn-response sends an empty one for the same
 * reason). A failed PUT is tried again; CloudFormation otherwise waits an hour for an answer.
 */
export async function sendCustomResourceResponse(
  url: string,
  response: CustomResourceResponse,
  options: SendResponseOptions = {},
): Promise<void> {
  const { fetch: put = fetch, attempts = 3, timeoutMs = 5_000, backoffMs = 500 } = options
  const body = Buffer.from(JSON.stringify(response), 'utf8')
  let last: unknown
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const answer = await put(url, { method: 'PUT', body, signal: AbortSignal.timeout(timeoutMs) })
      await answer.arrayBuffer().catch(() => undefined)
      if (answer.ok) return
      last = new Error(`HTTP ${answer.status}`)
    } catch (error) {
      last = error
    }
    if (attempt < attempts) await sleep(backoffMs * attempt)
  }
  throw new CustomResourceResponseError(
    `the response to CloudFormation was not accepted after ${attempts} attempts: ${
      last instanceof Error ? last.message : String(last)
    }`,
    { cause: last },
  )
}
