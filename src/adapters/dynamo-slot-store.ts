import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import { type SendSlotStore, type SlotClaim, TransientFailureError } from '../ports/index.js'
import { describeAwsError } from './aws-errors.js'

/**
 * The account's SendBounce slot as one item of the state table (`id` = `pace#SendBounce`):
 * `nextAt`, the epoch ms from which the slot is free, and `holder` while a send is under way.
 * Every change is a conditional write on that one item, which DynamoDB applies one at a time, so
 * two instances can never both see the slot free (DynamoDB DG: condition expressions).
 */
export class DynamoSlotStore implements SendSlotStore {
  private readonly key = { id: { S: 'pace#SendBounce' } }

  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async claim(holder: string, now: number, until: number, signal: AbortSignal): Promise<SlotClaim> {
    try {
      await this.dynamo.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key,
          UpdateExpression: 'SET #nextAt = :until, #holder = :holder',
          ConditionExpression: 'attribute_not_exists(#nextAt) OR #nextAt <= :now',
          ExpressionAttributeNames: { '#nextAt': 'nextAt', '#holder': 'holder' },
          ExpressionAttributeValues: {
            ':until': { N: String(until) },
            ':holder': { S: holder },
            ':now': { N: String(now) },
          },
          // One round trip in DynamoDB; a local stand-in without it gets a read instead.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        { abortSignal: signal },
      )
      return { claimed: true }
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw unavailable('claim', error)
      const item = error.Item ?? (await this.read(signal))
      return {
        claimed: false,
        nextAt: Number(item?.nextAt?.N ?? now),
        held: item?.holder?.S !== undefined,
      }
    }
  }

  async release(holder: string, nextAt: number): Promise<void> {
    try {
      await this.dynamo.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key,
          UpdateExpression: 'SET #nextAt = :nextAt REMOVE #holder',
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: { '#nextAt': 'nextAt', '#holder': 'holder' },
          ExpressionAttributeValues: { ':nextAt': { N: String(nextAt) }, ':holder': { S: holder } },
        }),
      )
    } catch (error) {
      // The lease ran out and another instance holds the slot now: nothing of ours to free.
      if (error instanceof ConditionalCheckFailedException) return
      throw unavailable('release', error)
    }
  }

  private async read(signal: AbortSignal) {
    try {
      const result = await this.dynamo.send(
        new GetItemCommand({ TableName: this.tableName, Key: this.key, ConsistentRead: true }),
        { abortSignal: signal },
      )
      return result.Item
    } catch (error) {
      throw unavailable('read', error)
    }
  }
}

function unavailable(what: string, error: unknown): TransientFailureError {
  return new TransientFailureError(`SendBounce slot ${what}: ${describeAwsError(error)}`, { cause: error })
}
