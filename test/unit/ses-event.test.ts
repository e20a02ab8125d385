import { describe, expect, it } from 'vitest'
import { FROM_BYTES_LIMIT } from '../../src/adapters/mime-text.js'
import { receivedMessageFrom, SesReceiptEventSchema } from '../../src/adapters/ses-event.js'
import { receiptEvent } from '../support/events.js'

const withFrom = (from: string[]) => {
  const event = receiptEvent('accepted')
  event.Records[0].ses.mail.commonHeaders.from = from
  return SesReceiptEventSchema.parse(event)
}

describe("the event's From", () => {
  it('gives the addresses of commonHeaders.from', async () => {
    const message = await receivedMessageFrom(withFrom(['Sam <sam@sender.example>, eve@other.example']))
    expect(message.fromAddresses).toEqual(['sam@sender.example', 'eve@other.example'])
  })

  it('leaves a From past the cap unknown: the stored message is read instead, and says it was cut', async () => {
    const many = Array.from({ length: 4_000 }, (_, i) => `user${i}@sender.example`).join(', ')
    expect(many.length).toBeGreaterThan(FROM_BYTES_LIMIT)
    const message = await receivedMessageFrom(withFrom([many]))
    expect(message.fromAddresses).toBeUndefined()
  })
})
