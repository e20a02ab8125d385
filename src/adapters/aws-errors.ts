/** The names AWS services give a request refused for its rate (SES: `Throttling`, ses-facts §1.4). */
const THROTTLING_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
])
/** Failures worth another attempt: throttling, server faults, timeouts and dropped connections. */
const TRANSIENT_NAMES = new Set([
  ...THROTTLING_NAMES,
  'ServiceUnavailable',
  'InternalFailure',
  'InternalError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
])
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
])

interface AwsErrorShape {
  name?: string
  code?: string
  $fault?: 'client' | 'server'
  $retryable?: unknown
  $metadata?: { httpStatusCode?: number }
}

export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const shape = error as AwsErrorShape
  const status = shape.$metadata?.httpStatusCode
  return (
    shape.$retryable !== undefined ||
    shape.$fault === 'server' ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    TRANSIENT_NAMES.has(shape.name ?? '') ||
    TRANSIENT_CODES.has(shape.code ?? '')
  )
}

export function isThrottlingAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const shape = error as AwsErrorShape
  return THROTTLING_NAMES.has(shape.name ?? '') || shape.$metadata?.httpStatusCode === 429
}

export function describeAwsError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const status = (error as AwsErrorShape).$metadata?.httpStatusCode
  return `${error.name}${status === undefined ? '' : ` (HTTP ${status})`}: ${error.message}`
}
