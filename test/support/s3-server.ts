import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import S3rver from 's3rver'
import AWSAccount from 's3rver/lib/models/account.js'

export interface S3Server {
  url: string
  /** Path-style client with checksums the way s3rver understands them. */
  client: S3Client
  /**
   * Environment that points an `new S3Client({ forcePathStyle: true })` (the production construction) at
   * this server; the checksum settings matter only for streamed uploads (see `client`).
   */
  env: Record<string, string>
  putObject(bucket: string, key: string, bytes: Buffer): Promise<void>
  close(): Promise<void>
}

export async function startS3Server({
  buckets,
  port: listenPort = 0,
}: {
  buckets: string[]
  port?: number
}): Promise<S3Server> {
  // s3rver ignores SigV4 signatures but rejects access key ids it does not know (InvalidAccessKeyId),
  // so the dummy key from the environment, which production clients sign with, must be registered.
  for (const key of new Set([process.env.AWS_ACCESS_KEY_ID ?? 'test', 'local'])) {
    AWSAccount.DUMMY_ACCOUNT.createKeyPair(key, 'unchecked')
  }

  const directory = await mkdtemp(join(tmpdir(), 's3rver-'))
  const server = new S3rver({
    address: '127.0.0.1',
    port: listenPort,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  })
  let port: number
  try {
    ;({ port } = await server.run())
  } catch (error) {
    await rm(directory, { recursive: true, force: true })
    throw error
  }
  const url = `http://127.0.0.1:${port}`

  const client = new S3Client({
    endpoint: url,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // By default the SDK uploads streams as `Content-Encoding: aws-chunked` with a CRC32 trailer; s3rver
    // stores that framing verbatim (chunk sizes and trailer end up in the object). WHEN_REQUIRED sends
    // plain bodies and drops `x-amz-checksum-mode` on reads, which s3rver never answers anyway.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })

  return {
    url,
    client,
    env: {
      AWS_ENDPOINT_URL_S3: url,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    },
    async putObject(bucket, key, bytes) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }))
    },
    async close() {
      client.destroy()
      try {
        await server.close()
      } finally {
        await rm(directory, { recursive: true, force: true })
      }
    },
  }
}
