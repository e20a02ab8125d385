import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency'
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb'
import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import type { Context } from 'aws-lambda'
import type { BounceLedger, OnceResult } from '../ports/index.js'

/**
 * Claims outlive every redelivery of an event that could still bounce: SES retries a failed
 * action for up to 4 hours and Lambda an async event for up to 6, and SendBounce refuses mail
 * older than 24 hours anyway (ses-facts §2.6, §1.1).
 */
const CLAIM_SECONDS = 25 * 60 * 60
const HOUR_MS = 60 * 60 * 1000

/**
 * Exactly-once work on the Powertools idempotency utility with its DynamoDB layer (table: string
 * partition key `id`, TTL on `expiration`), plus hourly bounce counts per sender mailbox and per
 * sender domain in the same table.
 */
export class DynamoLedger implements BounceLedger {
  private readonly config = new IdempotencyConfig({ expiresAfterSeconds: CLAIM_SECONDS })
  private readonly store: DynamoDBPersistenceLayer

  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.store = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: dynamo })
  }

  /**
   * A claim left by an invocation that died mid-send must expire at that invocation's deadline,
   * not a day later: Powertools takes the deadline from the Lambda context.
   */
  useLambdaContext(context: Context): void {
    this.config.registerLambdaContext(context)
  }

  async once<T>(key: string, work: () => Promise<T>): Promise<OnceResult<T>> {
    let ran = false
    const idempotent = makeIdempotent(
      async (_claim: { key: string }) => {
        ran = true
        return work()
      },
      { persistenceStore: this.store, config: this.config },
    )
    try {
      const value = (await idempotent({ key })) as T
      return { kind: 'done', value, replayed: !ran }
    } catch (error) {
      if (error instanceof IdempotencyAlreadyInProgressError) return { kind: 'in-progress' }
      throw error
    }
  }

  countBounceTo(sender: string, at: Date): Promise<number> {
    return this.countInHour(`bounces-to#${sender}`, at)
  }

  countBounceToDomain(domain: string, at: Date): Promise<number> {
    return this.countInHour(`bounces-to-domain#${domain}`, at)
  }

  /** One atomic counter item per key and UTC hour, expiring an hour after the hour ends. */
  private async countInHour(key: string, at: Date): Promise<number> {
    const hourStart = Math.floor(at.getTime() / HOUR_MS) * HOUR_MS
    const result = await this.dynamo.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { id: { S: `${key}#${new Date(hourStart).toISOString().slice(0, 13)}` } },
        UpdateExpression: 'ADD #count :one SET #expiration = if_not_exists(#expiration, :expiration)',
        ExpressionAttributeNames: { '#count': 'count', '#expiration': 'expiration' },
        ExpressionAttributeValues: {
          ':one': { N: '1' },
          ':expiration': { N: String(Math.ceil((hourStart + 2 * HOUR_MS) / 1000)) },
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    )
    return Number(result.Attributes?.count?.N ?? '1')
  }
}
