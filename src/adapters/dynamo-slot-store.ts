import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import {
  type SendSlotStore,
  type SlotClaim,
  type SlotRequest,
  TransientFailureError,
} from '../ports/index.js'
import { describeAwsError } from './aws-errors.js'

/**
 * The account's SendBounce slot as one item of the state table (`id` = `pace#SendBounce`):
 * `nextAt`, the epoch ms the next call may start at, and while a slot is taken, its `holder` and
 * `leaseUntil`. Every change is a conditional write on that one item, which DynamoDB applies one
 * at a time, so two instances can never both take it (DynamoDB DG: condition expressions).
 */
export class DynamoSlotStore implements SendSlotStore {
  private readonly key = { id: { S: 'pace#SendBounce' } }

  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async claim({ holder, now, startAt, leaseUntil }: SlotRequest, signal: AbortSignal): Promise<SlotClaim> {
    try {
      await this.dynamo.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key,
          UpdateExpression: 'SET #nextAt = :startAt, #holder = :holder, #leaseUntil = :leaseUntil',
          ConditionExpression:
            '(attribute_not_exists(#holder) OR #leaseUntil <= :now) AND ' +
            '(attribute_not_exists(#nextAt) OR #nextAt <= :startAt)',
          ExpressionAttributeNames: { '#nextAt': 'nextAt', '#holder': 'holder', '#leaseUntil': 'leaseUntil' },
          ExpressionAttributeValues: {
            ':startAt': { N: String(startAt) },
            ':holder': { S: holder },
            ':leaseUntil': { N: String(leaseUntil) },
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
      return taken(error.Item ?? (await this.read(signal)), now)
    }
  }

  async release(holder: string, nextAt: number): Promise<void> {
    try {
      await this.dynamo.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key,
          UpdateExpression: 'SET #nextAt = :nextAt REMOVE #holder, #leaseUntil',
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: { '#nextAt': 'nextAt', '#holder': 'holder', '#leaseUntil': 'leaseUntil' },
          ExpressionAttributeValues: { ':nextAt': { N: String(nextAt) }, ':holder': { S: holder } },
        }),
      )
    } catch (error) {
      // The lease ran out and another instance holds the slot now: nothing of ours to free.
      if (error instanceof ConditionalCheckFailedException) return
      throw unavailable('release', error)
    }
  }

  private async read(signal: AbortSignal): Promise<Record<string, AttributeValue> | undefined> {
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

function taken(item: Record<string, AttributeValue> | undefined, now: number): SlotClaim {
  const heldUntil = item?.holder?.S === undefined ? undefined : Number(item.leaseUntil?.N ?? 0)
  return {
    claimed: false,
    nextAt: Number(item?.nextAt?.N ?? now),
    ...(heldUntil !== undefined && heldUntil > now ? { heldUntil } : {}),
  }
}

function unavailable(what: string, error: unknown): TransientFailureError {
  return new TransientFailureError(`SendBounce slot ${what}: ${describeAwsError(error)}`, { cause: error })
}
