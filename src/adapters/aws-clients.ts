import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { S3Client } from '@aws-sdk/client-s3'
import { SESClient } from '@aws-sdk/client-ses'

type Env = Readonly<Record<string, string | undefined>>

/**
 * Every AWS call is bounded: a connection or a response that hangs fails fast and is retried
 * (standard mode: exponential backoff with jitter, throttling included) while the invocation's
 * abort signal still allows it. `requestTimeout` only throws with `throwOnRequestTimeout`.
 */
function clientOptions(region: string) {
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

export function sesClient(region: string): SESClient {
  return new SESClient(clientOptions(region))
}

export function dynamoClient(region: string): DynamoDBClient {
  return new DynamoDBClient(clientOptions(region))
}

export function s3Client(region: string, env: Env): S3Client {
  return new S3Client({
    ...clientOptions(region),
    // Local S3 stand-ins answer on a path, not on bucket subdomains of 127.0.0.1.
    forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL),
  })
}
