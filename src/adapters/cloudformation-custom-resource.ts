import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import { type ConfigProblem, formatProblem, zodProblems } from '../config/problems.js'
import { BouncerError } from '../domain/errors.js'
import type { ActivationRequest } from '../ports/receipt-rule-sets.js'

/** CloudFormation's pre-signed response URL could not be reached or refused the response. */
export class CustomResourceResponseError extends BouncerError {}

// Rule set names: letters, digits, . _ -, starting and ending with a letter or digit, at most 64
// characters (SES API reference: CreateReceiptRuleSet).
const RULE_SET_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/

/**
 * The physical id of a Create that activated nothing. It can never name a rule set (no ':' is
 * allowed in one), so the Delete CloudFormation later sends for it touches no set.
 */
export const NOT_ACTIVATED_PREFIX = 'not-activated:'

const PropertiesSchema = z.looseObject({
  RuleSetName: z.string().regex(RULE_SET_NAME, 'expected a receipt rule set name'),
  // CloudFormation passes every property as a string.
  ReplaceActive: z.enum(['true', 'false']).default('false'),
})

const physicalId = z
  .string()
  .refine(
    (id) => RULE_SET_NAME.test(id) || /^not-activated:[A-Za-z0-9]{1,255}$/.test(id),
    'expected the rule set this resource activated, or the id of one that activated nothing',
  )

/**
 * Everything of the request the handler acts on or answers with (AWS: crpg-ref-requests). Checked
 * whole, before any SES call: an unknown request type is not an Update, a Delete or Update
 * without a physical id has nothing to act on, and without a response URL nobody hears the answer.
 * Fields this handler does not use may come and go.
 */
const RequestSchema = z
  .looseObject({
    RequestType: z.enum(['Create', 'Update', 'Delete']),
    ResponseURL: z
      .string()
      .refine(isResponseUrl, 'expected the https URL CloudFormation gives for the answer'),
    StackId: z
      .string()
      .regex(/^arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:\d{12}:stack\/.+$/, 'expected a stack ARN'),
    RequestId: z.string().min(1),
    LogicalResourceId: z.string().regex(/^[A-Za-z0-9]{1,255}$/, 'expected a logical resource id'),
    PhysicalResourceId: physicalId.optional(),
    // A Delete's properties are not read: a rollback deletes a resource whose properties failed.
    ResourceProperties: z.record(z.string(), z.unknown()),
    OldResourceProperties: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((request, ctx) => {
    const require = (field: 'PhysicalResourceId' | 'OldResourceProperties') => {
      if (request[field] === undefined)
        ctx.addIssue({ code: 'custom', path: [field], message: `required for ${request.RequestType}` })
    }
    if (request.RequestType !== 'Create') require('PhysicalResourceId')
    if (request.RequestType === 'Update') require('OldResourceProperties')
  })

/** Where and how to answer: known as soon as the event names a usable response URL. */
export interface ReplyTo {
  readonly url: string
  readonly stackId: string
  readonly requestId: string
  readonly logicalResourceId: string
  /** The id to answer a failure with: the one the resource has, or one that names no rule set. */
  readonly physicalIdOnFailure: string
}

export type ParsedCustomResourceEvent =
  | { readonly valid: true; readonly request: ActivationRequest; readonly reply: ReplyTo }
  /** `reply` is absent when the event has no usable response URL: nobody can be told. */
  | { readonly valid: false; readonly problems: readonly string[]; readonly reply?: ReplyTo }

/**
 * The request in domain words, or every problem with the event and, when the event allows it,
 * where to answer FAILED. Nothing here calls anything.
 */
export function parseCustomResourceEvent(event: unknown): ParsedCustomResourceEvent {
  const reply = replyTo(event)
  const parsed = RequestSchema.safeParse(event)
  // A valid event always has a usable response URL; the second test only tells TypeScript so.
  if (!parsed.success || reply === undefined)
    return invalid(parsed.success ? [] : zodProblems(parsed.error), reply)
  const request = parsed.data
  if (request.RequestType === 'Delete') {
    return { valid: true, request: { kind: 'delete', ruleSet: request.PhysicalResourceId ?? '' }, reply }
  }
  const properties = PropertiesSchema.safeParse(request.ResourceProperties)
  if (!properties.success) return invalid(zodProblems(properties.error, ['ResourceProperties']), reply)
  const { RuleSetName: ruleSet, ReplaceActive } = properties.data
  const replaceActive = ReplaceActive === 'true'
  if (request.RequestType === 'Create')
    return { valid: true, request: { kind: 'create', ruleSet, replaceActive }, reply }

  // Our physical id is always the name of the set we were given: an Update whose id names another
  // set than its old properties did would let that set pass for ours and skip the replace guard.
  const previous = request.PhysicalResourceId ?? ''
  const oldName = request.OldResourceProperties?.RuleSetName
  if (!previous.startsWith(NOT_ACTIVATED_PREFIX) && oldName !== previous) {
    return invalid(
      [
        {
          path: 'PhysicalResourceId',
          message: `names '${previous}', but the old RuleSetName was ${JSON.stringify(oldName ?? null)}`,
        },
      ],
      reply,
    )
  }
  return {
    valid: true,
    request: {
      kind: 'update',
      ruleSet,
      replaceActive,
      ...(previous.startsWith(NOT_ACTIVATED_PREFIX) ? {} : { previousRuleSet: previous }),
    },
    reply,
  }
}

function invalid(problems: readonly ConfigProblem[], reply: ReplyTo | undefined): ParsedCustomResourceEvent {
  return { valid: false, problems: problems.map(formatProblem), ...(reply === undefined ? {} : { reply }) }
}

/** What an answer needs, taken from whatever of the event is usable. */
function replyTo(event: unknown): ReplyTo | undefined {
  if (typeof event !== 'object' || event === null) return undefined
  const fields = event as Record<string, unknown>
  const text = (name: string) => (typeof fields[name] === 'string' ? (fields[name] as string) : '')
  const url = text('ResponseURL')
  if (!isResponseUrl(url)) return undefined
  const logicalResourceId = text('LogicalResourceId')
  const physical = text('PhysicalResourceId')
  return {
    url,
    stackId: text('StackId'),
    requestId: text('RequestId'),
    logicalResourceId,
    physicalIdOnFailure:
      text('RequestType') !== 'Create' && physicalId.safeParse(physical).success
        ? physical
        : `${NOT_ACTIVATED_PREFIX}${/^[A-Za-z0-9]{1,255}$/.test(logicalResourceId) ? logicalResourceId : 'invalid-request'}`,
  }
}

/**
 * CloudFormation answers at a pre-signed https URL (S3). Plain http is accepted only on the
 * loopback interface, where the tests stand in for it; the answer never goes anywhere else.
 */
function isResponseUrl(text: string): boolean {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return false
  }
  if (url.protocol === 'https:') return true
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
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
  reply: ReplyTo,
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
    StackId: reply.stackId,
    RequestId: reply.requestId,
    LogicalResourceId: reply.logicalResourceId,
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
