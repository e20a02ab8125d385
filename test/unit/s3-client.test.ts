import { describe, expect, it } from 'vitest'
import { s3Client } from '../../src/adapters/s3-client.js'

describe('s3Client', () => {
  it('does not ask S3 for the object checksum to compute over every message it reads', async () => {
    const client = s3Client('us-east-1', {})
    try {
      expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED')
    } finally {
      client.destroy()
    }
  })
})
