import { SQSClient } from '@aws-sdk/client-sqs'
import { clientOptions } from './aws-clients.js'

/**
 * The queues are in the function's own Region, so its endpoint serves them. Without
 * `useQueueUrlAsEndpoint: false` the SDK sends to the queue URL's host instead, ignoring
 * AWS_ENDPOINT_URL_SQS (middleware-sdk-sqs, queueUrlMiddleware).
 */
export function sqsClient(region: string): SQSClient {
  return new SQSClient({ ...clientOptions(region), useQueueUrlAsEndpoint: false })
}
