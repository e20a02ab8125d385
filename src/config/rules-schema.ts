import { z } from 'zod'
import { AddressSet, PatternError } from '../domain/address-set.js'
import { EXTENSION_FIELD_NAME, EXTENSION_VALUE_LIMIT } from '../domain/bounce-request.js'
import { BOUNCE_TYPES, FAILURE_STATUS } from '../domain/bounce-spec.js'
import { ON_UNREADABLE } from '../domain/decide.js'
import { DMARC_POLICIES, VERDICT_STATUSES } from '../domain/message.js'
import { mailAddress } from './environment.js'

/**
 * The rules file (`bounce-rules.yml`), as written by the operator. One schema validates it at cold
 * start and is published as JSON Schema for editors (`bounce-rules.schema.json`).
 */

/**
 * Key-counting checks run even when a nested value is already wrong, so one pass reports every
 * problem rather than one per run.
 */
const evenWithNestedProblems = {
  when: (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null,
}

/** Checked here, not only when compiling, so a bad pattern is listed with every schema problem. */
const pattern = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const problem = value === '' ? undefined : patternProblem(value)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
  })
const patternList = z.array(pattern).min(1, 'expected at least one pattern')
const listFile = z.string().min(1, 'expected the path of a pattern file')

const addressCondition = z
  .strictObject({ in: patternList, notIn: patternList, inFile: listFile, notInFile: listFile })
  .partial()
  .refine((value) => Object.keys(value).length === 1, {
    message: 'expected exactly one of in, notIn, inFile, notInFile',
    ...evenWithNestedProblems,
  })
  .meta({
    description:
      'Patterns: user@domain, *@domain, *@*.domain; case-insensitive; user+tag@domain matches user@domain.',
    minProperties: 1,
    maxProperties: 1,
  })

const verdictStatus = z.enum(VERDICT_STATUSES)
const verdictCondition = z
  .strictObject({
    spam: z.union([verdictStatus, z.array(verdictStatus).min(1)]),
    virus: z.union([verdictStatus, z.array(verdictStatus).min(1)]),
    spf: z.union([verdictStatus, z.array(verdictStatus).min(1)]),
    dkim: z.union([verdictStatus, z.array(verdictStatus).min(1)]),
    dmarc: z.union([verdictStatus, z.array(verdictStatus).min(1)]),
  })
  .partial()
  .refine((value) => Object.keys(value).length > 0, 'expected at least one of spam, virus, spf, dkim, dmarc')
  .meta({ description: 'SES verdicts: every one listed must have one of its statuses.', minProperties: 1 })

const dmarcPolicy = z.enum(DMARC_POLICIES)

export const SIZE_PATTERN = /^\s*(\d+)\s*([KkMm]?)\s*$/
const SIZE_HINT = 'expected a size like 10M (bytes; K and M are 1024-based)'
const size = z.union([z.number().int().nonnegative(), z.string().regex(SIZE_PATTERN, SIZE_HINT)], {
  error: SIZE_HINT,
})

const globList = z.array(z.string().min(1)).min(1)
const attachmentCondition = z
  .strictObject({ filename: globList, contentType: globList })
  .partial()
  .refine((value) => Object.keys(value).length > 0, 'expected filename or contentType (or both)')
  .meta({
    description: 'Any attachment matching every glob list given (case-insensitive).',
    minProperties: 1,
  })

const headerCondition = z
  .strictObject({
    name: z.string().regex(/^[!-9;-~]+$/, 'expected a header field name (RFC 5322 §3.6.8)'),
    exists: z.boolean().optional(),
    equals: z.string().optional(),
    contains: z.string().optional(),
    matches: z
      .string()
      .optional()
      .superRefine((value, ctx) => {
        if (value === undefined) return
        const problem = regexProblem(value)
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
      })
      .describe(
        'A regular expression in RE2 syntax (linear time: no backreferences, no lookaround), /pattern/flags (i, m, s) or bare.',
      ),
  })
  .refine((value) => ['exists', 'equals', 'contains', 'matches'].filter((key) => key in value).length === 1, {
    message: 'expected exactly one of exists, equals, contains, matches',
    ...evenWithNestedProblems,
  })
  .meta({
    description: 'Any occurrence of the header; matches runs on at most the first 8 KB of a value.',
    oneOf: ['exists', 'equals', 'contains', 'matches'].map((test) => ({ required: [test] })),
  })

const when = z
  .strictObject({
    recipient: addressCondition,
    sender: addressCondition,
    from: addressCondition,
    verdict: verdictCondition,
    dmarcPolicy: z.union([dmarcPolicy, z.array(dmarcPolicy).min(1)]),
    size: z.strictObject({ over: size }),
    attachment: attachmentCondition,
    header: headerCondition,
  })
  .partial()

const bounce = z.strictObject({
  type: z.enum(BOUNCE_TYPES),
  status: z
    .string()
    .regex(FAILURE_STATUS, 'expected an RFC 3463 failure status like 5.7.1 (class 4 or 5)')
    .optional(),
  diagnostic: z.string().min(1).optional(),
  explanation: z.string().min(1).optional(),
})

const rule = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a name of letters, digits, . _ -')
      .refine((name) => name !== ON_UNREADABLE, `${ON_UNREADABLE} names the decisions of that setting`),
    when: when.optional(),
    bounce: bounce.optional(),
    drop: z.literal(true).optional(),
    accept: z.literal(true).optional(),
  })
  .refine((value) => ['bounce', 'drop', 'accept'].filter((key) => key in value).length === 1, {
    message: 'expected exactly one of bounce, drop: true, accept: true',
    ...evenWithNestedProblems,
  })
  .meta({
    description: 'The first rule whose conditions all hold decides a recipient.',
    oneOf: ['bounce', 'drop', 'accept'].map((action) => ({ required: [action] })),
  })

const safety = z
  .strictObject({
    nullSender: z.boolean(),
    autoSubmitted: z.boolean(),
    spam: z.boolean(),
    virus: z.boolean(),
    forgedSender: z.boolean().describe('SPF FAIL for the envelope sender → drop, whatever DMARC says.'),
    unverifiedSender: z
      .boolean()
      .describe('Bounce only when SPF passed for the envelope sender or an aligned DKIM signature passed.'),
    maxBouncesPerSender: z
      .number()
      .int()
      .positive()
      .describe('Bounces per envelope sender mailbox per hour.'),
    maxBouncesPerSenderDomain: z
      .number()
      .int()
      .positive()
      .describe('Bounces per envelope sender domain per hour.'),
  })
  .partial()

/**
 * What becomes of a recipient the rules cannot settle because a parsing limit cut the message off
 * (continue: deliver, as when the limits switched the rules off; drop; or bounce).
 */
const onUnreadable = z
  .union([z.enum(['continue', 'drop']), z.strictObject({ bounce })], {
    error: 'expected continue, drop or { bounce: { type: ... } }',
  })
  .default('continue')
  .describe(
    'What to do with a recipient the rules could not settle because the message exceeded a parsing limit: continue (deliver), drop, or { bounce: {...} }.',
  )

const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?$/, {
    error: 'expected a host name like mx.example.com',
  })

export const RulesFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    bounceSender: mailAddress.optional(),
    bounceSenderArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:ses:[a-z0-9-]+:\d{12}:identity\/.+$/, 'expected an SES identity ARN')
      .optional(),
    reportingMta: hostname.optional(),
    explanation: z.string().min(1).optional(),
    extensionFields: z
      .record(
        z
          .string()
          .regex(EXTENSION_FIELD_NAME, 'expected a DSN field name of 1-50 letters, digits and dashes'),
        z
          .string()
          .max(EXTENSION_VALUE_LIMIT)
          .regex(/^[^\r\n]*$/, 'expected a single line (no CR or LF)'),
      )
      .optional()
      .describe('Extra fields in the per-message part of every DSN, e.g. X-Support-Contact.'),
    mode: z.enum(['enforce', 'dry-run']).default('enforce'),
    onUnreadable,
    safety: safety.optional(),
    rules: z.array(rule),
  })
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>()
    const rules: readonly { name?: unknown }[] = Array.isArray(file.rules) ? file.rules : []
    rules.forEach((entry, index) => {
      if (typeof entry?.name !== 'string') return
      const first = seen.get(entry.name)
      if (first === undefined) seen.set(entry.name, index)
      else
        ctx.addIssue({
          code: 'custom',
          path: ['rules', index, 'name'],
          message: `duplicate rule name "${entry.name}" (first used by rules[${first}])`,
        })
    })
  }, evenWithNestedProblems)

export type RulesFile = z.infer<typeof RulesFileSchema>
export type RuleEntry = RulesFile['rules'][number]
export type WhenEntry = NonNullable<RuleEntry['when']>
export type AddressConditionEntry = NonNullable<WhenEntry['recipient']>

/** The flags a `matches` pattern may carry: i, m and s as in JavaScript, u (always on in RE2). */
export const PATTERN_FLAGS = 'imsu'

/**
 * `/pattern/flags` or a bare pattern (no flags). Only the form is checked here: the pattern itself
 * is compiled by the pattern engine, loaded when a rules file uses `matches`.
 */
export function regexLiteral(text: string): { source: string; flags: string } {
  const literal = /^\/(.*)\/([a-z]*)$/s.exec(text)
  if (literal === null) return { source: text, flags: '' }
  const [, source = '', flags = ''] = literal
  const unknown = [...flags].filter((flag) => !PATTERN_FLAGS.includes(flag))
  if (unknown.length > 0) {
    const stateful = unknown.some((flag) => flag === 'g' || flag === 'y')
    throw new SyntaxError(
      stateful ? 'flags g and y are not allowed' : `unknown flags ${unknown.join('')} (use i, m, s)`,
    )
  }
  if (new Set(flags).size !== flags.length) throw new SyntaxError(`flag repeated in ${flags}`)
  if (source === '') throw new SyntaxError('empty pattern')
  return { source, flags }
}

function patternProblem(text: string): string | undefined {
  try {
    new AddressSet().add(text)
    return undefined
  } catch (error) {
    if (error instanceof PatternError) return error.message
    throw error
  }
}

function regexProblem(text: string): string | undefined {
  try {
    regexLiteral(text)
    return undefined
  } catch (error) {
    return `not a valid regular expression: ${(error as Error).message}`
  }
}

/** The rules file's JSON Schema (draft 2020-12), for editors: `bounce-rules.schema.json`. */
export function rulesJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(RulesFileSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'ses-bouncer rules file (bounce-rules.yml)',
  }
}
