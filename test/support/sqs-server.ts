import type { AddressInfo } from 'node:net'
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs'
import { buildApp } from 'fauxqs'

export interface SqsServer {
  /** Value for AWS_ENDPOINT_URL_SQS. */
  url: string
  createQueue(name: string, attributes?: Record<string, string>): Promise<{ url: string; arn: string }>
  /** Messages on the queue now: waiting (ready or delayed) and in flight. */
  depth(name: string): Promise<{ waiting: number; inFlight: number }>
  /** The messages waiting on the queue (its dead-letter queue, say), without receiving them. */
  waiting(name: string): Promise<{ body: string; attributes: Record<string, string | undefined> }[]>
  close(): Promise<void>
}

interface Inspected {
  messages: {
    ready: { body: string; messageAttributes?: Record<string, { StringValue?: string }> }[]
    delayed: unknown[]
    inflight: unknown[]
  }
}

/**
 * fauxqs 1.9 (SQS's JSON protocol, visibility timeouts, redrive to a dead-letter queue) on an
 * ephemeral loopback port; its own `startFauxqs` would listen on every interface.
 */
export async function startSqs(): Promise<SqsServer> {
  const app = buildApp({ logger: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const sqs = new SQSClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  })
  const inspect = async (name: string): Promise<Inspected> => {
    const response = await fetch(`${url}/_fauxqs/queues/${encodeURIComponent(name)}`)
    if (!response.ok) throw new Error(`no queue ${name}: HTTP ${response.status}`)
    return (await response.json()) as Inspected
  }
  return {
    url,
    async createQueue(name, attributes = {}) {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))
      if (QueueUrl === undefined) throw new Error(`CreateQueue ${name}: no URL`)
      return { url: QueueUrl, arn: `arn:aws:sqs:us-east-1:000000000000:${name}` }
    },
    async depth(name) {
      const { messages } = await inspect(name)
      return { waiting: messages.ready.length + messages.delayed.length, inFlight: messages.inflight.length }
    },
    async waiting(name) {
      return (await inspect(name)).messages.ready.map((message) => ({
        body: message.body,
        attributes: Object.fromEntries(
          Object.entries(message.messageAttributes ?? {}).map(([key, value]) => [key, value.StringValue]),
        ),
      }))
    },
    async close() {
      sqs.destroy()
      await app.close()
    },
  }
}
