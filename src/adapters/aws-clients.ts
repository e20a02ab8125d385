type Env = Readonly<Record<string, string | undefined>>

/**
 * Every AWS call is bounded: a connection or a response that hangs fails fast and is retried
 * (standard mode: exponential backoff with jitter, throttling included) while the invocation's
 * abort signal still allows it. `requestTimeout` only throws with `throwOnRequestTimeout`.
 * Each client lives in its own module (ses-client, s3-client, dynamo-client), so a function
 * loads only the SDKs it calls, when it first calls them.
 */
export function clientOptions(region: string) {
  return {
    region,
    maxAttempts: 5,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: 2_000,
      requestTimeout: 5_000,
      throwOnRequestTimeout: true,
      socketTimeout: 5_000,
    },
  } as const
}

/** Local S3 stand-ins answer on a path, not on bucket subdomains of 127.0.0.1. */
export function usesLocalS3(env: Env): boolean {
  return Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL)
}
