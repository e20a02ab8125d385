import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { clientOptions } from './aws-clients.js'

export function dynamoClient(region: string): DynamoDBClient {
  return new DynamoDBClient(clientOptions(region))
}
