import { z } from 'zod'
import { type ConfigProblem, zodProblems } from './problems.js'

/** Schemas shared by the functions' environments (and the rules file's addresses). */

/**
 * An address SES can send from: no space, quote, bracket or list separator, no control or format
 * character (a bidi override would show the operator one address and the recipient another), and
 * a domain in ASCII (an IDN as its xn-- form). Kept equal to ADDRESS in serverless/deploy-params.cjs.
 */
export const mailAddress = z
  .string()
  .regex(/^[^\s@<>"(),;:[\]\\\p{Cc}\p{Cf}]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/u, {
    error: 'expected an address like mailer-daemon@example.com',
  })

/** An SQS queue URL as CloudFormation's Ref gives it (https://sqs.<region>.amazonaws.com/<account>/<name>). */
export const queueUrl = z.url({
  protocol: /^https?$/,
  error: 'expected a queue URL like https://sqs.us-east-1.amazonaws.com/123456789012/name',
})

/** Unset or blank is absent. */
export const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional()

/** A number in (0, max]; unset or blank takes the default. The messages name the unit. */
export function boundedNumber(
  fallback: number,
  max: number,
  messages: { readonly type: string; readonly above0: string; readonly max: string },
) {
  return z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : Number(value)))
    .pipe(z.number({ error: messages.type }).gt(0, messages.above0).max(max, messages.max))
}

export const flag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', '']))
  .transform((value) => value === 'true' || value === '1' || value === 'yes')

/**
 * Each variable on its own, so one bad value is reported without hiding the others: a variable
 * that fails falls back to its default and the run stops with every problem listed.
 */
export function parseEnvironment<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
): z.infer<z.ZodObject<Shape>> {
  const values: Record<string, unknown> = {}
  for (const [name, field] of Object.entries(schema.shape)) {
    const parsed = (field as z.ZodType).safeParse(env[name])
    if (parsed.success) {
      values[name] = parsed.data
    } else {
      problems.push(...zodProblems(parsed.error, [name]))
      const fallback = (field as z.ZodType).safeParse(undefined)
      values[name] = fallback.success ? fallback.data : undefined
    }
  }
  return values as z.infer<z.ZodObject<Shape>>
}
