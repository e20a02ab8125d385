import type { AddressInfo } from 'node:net'
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb'
import dynalite from 'dynalite'

export interface DynamoServer {
  /** Value for AWS_ENDPOINT_URL_DYNAMODB. */
  url: string
  close(): Promise<void>
}

export async function startDynamo({
  tables,
}: {
  tables: { name: string; partitionKey: 'id' }[]
}): Promise<DynamoServer> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const close = () =>
    new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))

  const client = new DynamoDBClient({ endpoint: url, region: 'us-east-1' })
  try {
    for (const { name, partitionKey } of tables) {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [{ AttributeName: partitionKey, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      )
    }
    // Even with createTableMs 0 a table stays CREATING until dynalite's next timer tick.
    for (const { name } of tables) {
      await waitUntilTableExists(
        { client, maxWaitTime: 5, minDelay: 0.01, maxDelay: 0.05 },
        { TableName: name },
      )
    }
  } catch (error) {
    await close()
    throw error
  } finally {
    client.destroy()
  }
  return { url, close }
}
