import { SQSClient } from '@aws-sdk/client-sqs'
import { clientOptions } from './aws-clients.js'

export function sqsClient(region: string): SQSClient {
  return new SQSClient(clientOptions(region))
}
