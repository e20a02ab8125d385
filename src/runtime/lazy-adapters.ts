import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { Context } from 'aws-lambda'
import type { YamlParser } from '../config/load-config.js'
import type { PatternEngine } from '../config/patterns.js'
import type { SendBounceRequest } from '../domain/bounce-request.js'
import type { QueuedBounce } from '../domain/queued-bounce.js'
import type { BounceLedger, BounceQueue, BounceSender, MessageSource, SendSlotStore } from '../ports/index.js'
import type { Env } from './service.js'

/*
 * The adapters that talk to AWS, each loaded on its first call rather than at cold start: a
 * message decided from the event alone never loads the S3 SDK, one that bounces nobody never
 * loads SES or DynamoDB. Lambda bills and SES waits for every millisecond of a cold start.
 */

/** Loads once, on first use; a load that failed is tried again on the next use. */
export function onFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined
      throw error
    })
    return loading
  }
}

export function lazySesBounceSender(region: string, options: { maxAttempts?: number } = {}): BounceSender {
  const sender = onFirstUse(async () => {
    const [{ SesBounceSender }, { sesClient }] = await Promise.all([
      import('../adapters/ses-bounce-sender.js'),
      import('../adapters/ses-client.js'),
    ])
    return new SesBounceSender(sesClient(region, options))
  })
  return { send: async (request: SendBounceRequest, signal) => (await sender()).send(request, signal) }
}

export function lazySqsBounceQueue(region: string, queueUrl: string): BounceQueue {
  const queue = onFirstUse(async () => {
    const [{ SqsBounceQueue }, { sqsClient }] = await Promise.all([
      import('../adapters/sqs-bounce-queue.js'),
      import('../adapters/sqs-client.js'),
    ])
    return new SqsBounceQueue(sqsClient(region), queueUrl)
  })
  return { enqueue: async (bounce: QueuedBounce, signal) => (await queue()).enqueue(bounce, signal) }
}

/** The sender's dead-letter queue for messages it cannot read. */
export function lazySqsDeadLetters(region: string, queueUrl: string) {
  const deadLetters = onFirstUse(async () => {
    const [{ SqsDeadLetters }, { sqsClient }] = await Promise.all([
      import('../adapters/sqs-bounce-queue.js'),
      import('../adapters/sqs-client.js'),
    ])
    return new SqsDeadLetters(sqsClient(region), queueUrl)
  })
  return {
    put: async (body: string, reason: string, signal: AbortSignal) =>
      (await deadLetters()).put(body, reason, signal),
  }
}

/** One DynamoDB client for a container's users of the state table: one connection pool, one handshake. */
export function lazyDynamoClient(region: string): () => Promise<DynamoDBClient> {
  return onFirstUse(async () => (await import('../adapters/dynamo-client.js')).dynamoClient(region))
}

/** The account's SendBounce slot in the state table. */
export function lazyDynamoSlotStore(
  region: string,
  table: string,
  client: () => Promise<DynamoDBClient> = lazyDynamoClient(region),
): SendSlotStore {
  const store = onFirstUse(async () => {
    const [{ DynamoSlotStore }, dynamo] = await Promise.all([
      import('../adapters/dynamo-slot-store.js'),
      client(),
    ])
    return new DynamoSlotStore(dynamo, table)
  })
  return {
    claim: async (request, signal) => (await store()).claim(request, signal),
    release: async (holder, nextAt) => (await store()).release(holder, nextAt),
  }
}

export function lazyS3MessageSource(region: string, env: Env, bucket: string, prefix: string): MessageSource {
  const source = onFirstUse(async () => {
    const [{ S3MessageSource }, { s3Client }] = await Promise.all([
      import('../adapters/s3-message-source.js'),
      import('../adapters/s3-client.js'),
    ])
    return new S3MessageSource(s3Client(region, env), bucket, prefix)
  })
  return {
    size: async (messageId, signal) => (await source()).size(messageId, signal),
    read: async (messageId, signal) => (await source()).read(messageId, signal),
  }
}

/** The DynamoDB ledger, told each invocation's Lambda context (its claims expire with it). */
export function lazyDynamoLedger(
  region: string,
  table: string,
  client: () => Promise<DynamoDBClient> = lazyDynamoClient(region),
): BounceLedger & { useLambdaContext(context: Context): void } {
  let context: Context | undefined
  const ledger = onFirstUse(async () => {
    const [{ DynamoLedger }, dynamo] = await Promise.all([import('../adapters/dynamo-ledger.js'), client()])
    return new DynamoLedger(dynamo, table)
  })
  return {
    useLambdaContext(next) {
      context = next
    },
    async once(key, work) {
      const loaded = await ledger()
      if (context !== undefined) loaded.useLambdaContext(context)
      return loaded.once(key, work)
    },
    countBounceTo: async (sender, at) => (await ledger()).countBounceTo(sender, at),
    countBounceToDomain: async (domain, at) => (await ledger()).countBounceToDomain(domain, at),
  }
}

/**
 * The `matches` pattern engine (RE2JS, about 30 ms to load), for rules files that use `matches`
 * only: no other rules file ever loads it.
 */
export const loadPatternEngine: () => Promise<PatternEngine> = onFirstUse(
  async () => (await import('../adapters/re2-pattern-engine.js')).re2PatternEngine,
)

/**
 * The YAML parser, for rules files in YAML (local runs and rules from S3): a function packaged
 * with `serverless package` reads its rules compiled to JSON and never loads it. `yaml` is
 * CommonJS: under Node its exports are the default export, and in the bundle's chunk they are
 * nothing else.
 */
export const loadYaml: () => Promise<YamlParser> = onFirstUse(async () => (await import('yaml')).default)
