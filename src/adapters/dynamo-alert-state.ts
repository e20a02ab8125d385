import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb'
import { type AlertState, AlertStateUnavailableError } from '../ports/sending-health.js'
import { describeAwsError } from './aws-errors.js'

/**
 * Once-a-day claims in the Powertools idempotency table: partition key `id` (string) and TTL
 * attribute `expiration` in epoch seconds, as Powertools' DynamoDBPersistenceLayer uses them. Keys
 * start with `ses-bouncer#sending-health#`, which no Powertools key (`<function>#<hash>`) can.
 */
export class DynamoAlertState implements AlertState {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async claim(key: string, expiresAt: Date): Promise<boolean> {
    const now = this.now()
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            id: key,
            expiration: epochSeconds(expiresAt),
            claimedAt: now.toISOString(),
          },
          // TTL deletes expired items only eventually, days late at worst (DynamoDB developer guide:
          // howitworks-ttl), so an expired item still in the table counts as absent.
          ConditionExpression: 'attribute_not_exists(#id) OR #expiration < :now',
          ExpressionAttributeNames: { '#id': 'id', '#expiration': 'expiration' },
          ExpressionAttributeValues: { ':now': epochSeconds(now) },
        }),
      )
      return true
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false
      throw new AlertStateUnavailableError(`PutItem ${key} in ${this.table}: ${describeAwsError(error)}`, {
        cause: error,
      })
    }
  }

  async release(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteCommand({ TableName: this.table, Key: { id: key } }))
    } catch (error) {
      throw new AlertStateUnavailableError(`DeleteItem ${key} in ${this.table}: ${describeAwsError(error)}`, {
        cause: error,
      })
    }
  }
}

function epochSeconds(at: Date): number {
  return Math.floor(at.getTime() / 1000)
}
