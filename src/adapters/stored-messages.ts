import { createReadStream } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { extname, join } from 'node:path'
import type { Readable } from 'node:stream'
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'

/** One stored raw message: a name to report it by, and its bytes as a stream. */
export interface StoredMessage {
  readonly name: string
  open(signal: AbortSignal): Promise<Readable>
}

/** Every object under `s3://bucket/prefix` (ListObjectsV2, page by page). */
export async function listS3Messages(s3: S3Client, bucket: string, prefix: string): Promise<StoredMessage[]> {
  const messages: StoredMessage[] = []
  let ContinuationToken: string | undefined
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }),
    )
    for (const object of page.Contents ?? []) {
      const key = object.Key
      if (key === undefined || key.endsWith('/')) continue
      messages.push({
        name: `s3://${bucket}/${key}`,
        open: async (signal) => {
          const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
            abortSignal: signal,
          })
          return response.Body as Readable
        },
      })
    }
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (ContinuationToken !== undefined)
  return messages
}

/** The messages in a folder: `.eml` files, and files with no extension as SES names its objects. */
export async function listFolderMessages(folder: string): Promise<StoredMessage[]> {
  const entries = await readdir(folder, { withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .filter((entry) => extname(entry.name) === '' || extname(entry.name).toLowerCase() === '.eml')
    .map((entry) => entry.name)
    .sort()
    .map((name) => ({ name: join(folder, name), open: async () => createReadStream(join(folder, name)) }))
}

/** Stores a raw message at `s3://bucket/key`, as the receipt rule's S3 action would. */
export async function storeS3Message(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array,
): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'message/rfc822' }))
}
