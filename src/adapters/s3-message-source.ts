import type { Readable } from 'node:stream'
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import type { MessageContent } from '../domain/message.js'
import { type MessageSource, MessageUnavailableError, TransientFailureError } from '../ports/index.js'
import { describeAwsError, isTransientAwsError } from './aws-errors.js'
import { parseMessage } from './mime-parser.js'

/**
 * The raw message the receipt rule's S3 action stored at `<prefix><messageId>` (AWS:
 * receiving-email-action-s3). The prefix is used as given, trailing slash included.
 */
export class S3MessageSource implements MessageSource {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  async size(messageId: string, signal: AbortSignal): Promise<number> {
    const key = this.keyOf(messageId)
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: signal,
      })
      if (head.ContentLength === undefined) throw new Error('HeadObject returned no ContentLength')
      return head.ContentLength
    } catch (error) {
      throw this.failure(key, error)
    }
  }

  async read(messageId: string, signal: AbortSignal): Promise<MessageContent> {
    const key = this.keyOf(messageId)
    let body: Readable
    let size: number | undefined
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: signal,
      })
      if (object.Body === undefined) throw new Error('GetObject returned no body')
      body = object.Body as Readable
      size = object.ContentLength
    } catch (error) {
      throw this.failure(key, error)
    }
    let streamError: unknown
    body.once('error', (error) => {
      streamError = error
    })
    try {
      // a message cut off by a limit is not read further: its size is the object's
      return await parseMessage(body, signal, size)
    } catch (error) {
      // A connection lost mid-stream is worth a retry; a message that does not parse is not.
      if (streamError !== undefined || signal.aborted) throw this.failure(key, streamError ?? signal.reason)
      throw error
    }
  }

  private keyOf(messageId: string): string {
    return `${this.prefix}${messageId}`
  }

  private failure(key: string, error: unknown): Error {
    const message = `s3://${this.bucket}/${key}: ${describeAwsError(error)}`
    return isTransientAwsError(error)
      ? new TransientFailureError(message, { cause: error })
      : new MessageUnavailableError(message, { cause: error })
  }
}
