import { posix } from 'node:path'
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { describeAwsError } from './aws-errors.js'

export interface FetchedRules {
  readonly text: string
  /** Pattern files by the name the rules give them. */
  readonly lists: ReadonlyMap<string, string>
  /** False when neither the rules nor any pattern file changed since the last fetch. */
  readonly changed: boolean
}

interface Cached {
  readonly etag: string | undefined
  readonly body: string
}

/**
 * The rules file at s3://bucket/key and the pattern files it names, resolved next to the key.
 * Each object is fetched with a conditional GET on its ETag, so an unchanged one costs a 304.
 */
export class S3RulesSource {
  private readonly cache = new Map<string, Cached>()

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
  ) {}

  get location(): string {
    return `s3://${this.bucket}/${this.key}`
  }

  /** `listFilesOf` names the pattern files of a rules text (they can change with it). */
  async fetch(listFilesOf: (text: string) => readonly string[], signal?: AbortSignal): Promise<FetchedRules> {
    let changed = false
    const read = async (key: string): Promise<string> => {
      const object = await this.getIfChanged(key, signal)
      if (object.changed) changed = true
      return object.body
    }
    const text = await read(this.key)
    const lists = new Map<string, string>()
    for (const name of listFilesOf(text)) lists.set(name, await read(this.keyBeside(name)))
    return { text, lists, changed }
  }

  private keyBeside(name: string): string {
    return name.startsWith('/') ? name.slice(1) : posix.join(posix.dirname(this.key), name)
  }

  private async getIfChanged(key: string, signal?: AbortSignal): Promise<{ body: string; changed: boolean }> {
    const cached = this.cache.get(key)
    try {
      const object = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, IfNoneMatch: cached?.etag }),
        signal === undefined ? {} : { abortSignal: signal },
      )
      const body = (await object.Body?.transformToString('utf-8')) ?? ''
      this.cache.set(key, { etag: object.ETag, body })
      return { body, changed: true }
    } catch (error) {
      if (
        cached !== undefined &&
        (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 304
      ) {
        return { body: cached.body, changed: false }
      }
      throw new Error(`s3://${this.bucket}/${key}: ${describeAwsError(error)}`, { cause: error })
    }
  }
}
