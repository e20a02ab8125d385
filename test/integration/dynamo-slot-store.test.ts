import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DynamoSlotStore } from '../../src/adapters/dynamo-slot-store.js'
import { TransientFailureError } from '../../src/ports/index.js'
import { type DynamoServer, startDynamo } from '../support/dynamo-server.js'

/** The account's SendBounce slot as one conditionally written item, against dynalite. */

let dynamo: DynamoServer
let client: DynamoDBClient
let tables = 0

beforeAll(async () => {
  dynamo = await startDynamo({
    tables: Array.from({ length: 4 }, (_, i) => ({ name: `slot-${i + 1}`, partitionKey: 'id' as const })),
  })
  client = new DynamoDBClient({ endpoint: dynamo.url, region: 'us-east-1' })
})

afterAll(async () => {
  client?.destroy()
  await dynamo?.close()
})

const forever = new AbortController().signal
const freshStore = () => {
  tables += 1
  return new DynamoSlotStore(client, `slot-${tables}`)
}
const request = (holder: string, now: number, startAt = now, leaseUntil = startAt + 10_000) => ({
  holder,
  now,
  startAt,
  leaseUntil,
})

describe('DynamoSlotStore', () => {
  it('gives a free slot to exactly one of many claiming at once', async () => {
    const store = freshStore()
    const claims = await Promise.all(
      Array.from({ length: 12 }, (_, i) => store.claim(request(`holder-${i}`, 1_000), forever)),
    )
    expect(claims.filter((claim) => claim.claimed)).toHaveLength(1)
    expect(claims.filter((claim) => !claim.claimed)).toEqual(
      Array(11).fill({ claimed: false, nextAt: 1_000, heldUntil: 11_000 }),
    )
  })

  it('once released, opens at the released time, and can be taken ahead of it for then', async () => {
    const store = freshStore()
    expect(await store.claim(request('a', 1_000), forever)).toEqual({ claimed: true })
    await store.release('a', 2_000)
    // Taken now for a start before nextAt: refused, with nextAt.
    expect(await store.claim(request('b', 1_500), forever)).toEqual({ claimed: false, nextAt: 2_000 })
    // Taken now for a start at nextAt: granted, and held until then plus the lease.
    expect(await store.claim(request('b', 1_500, 2_000), forever)).toEqual({ claimed: true })
    expect(await store.claim(request('c', 1_600, 2_000), forever)).toEqual({
      claimed: false,
      nextAt: 2_000,
      heldUntil: 12_000,
    })
  })

  it('frees a held slot when its lease runs out, and ignores the late release of the old holder', async () => {
    const store = freshStore()
    await store.claim(request('gone', 1_000), forever)
    expect(await store.claim(request('next', 11_000), forever)).toEqual({ claimed: true })
    await store.release('gone', 11_500)
    expect(await store.claim(request('third', 12_000), forever)).toEqual({
      claimed: false,
      nextAt: 11_000,
      heldUntil: 21_000,
    })
  })

  it('reports a table it cannot use as a transient failure', async () => {
    const store = new DynamoSlotStore(client, 'no-such-table')
    await expect(store.claim(request('a', 1), forever)).rejects.toThrow(TransientFailureError)
    await expect(store.release('a', 2)).rejects.toThrow(/SendBounce slot release: ResourceNotFoundException/)
  })
})
