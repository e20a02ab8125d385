import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'

/**
 * Lambda's SQS event source mapping, as far as the bounce sender can tell (Lambda DG,
 * services-sqs-scaling, services-sqs-errorhandling): pollers receive up to `batchSize` messages
 * (which stay invisible for the queue's visibility timeout), invoke the function with them as one
 * SQS event, delete those it did not report in `batchItemFailures`, and delete nothing when the
 * invocation fails. What is not deleted comes back after the visibility timeout; the queue's
 * redrive policy moves it aside after `maxReceiveCount` receives.
 */
export interface EventSourceOptions {
  /** The SQS endpoint (fauxqs). */
  readonly endpoint: string
  readonly queueUrl: string
  readonly queueArn: string
  readonly batchSize: number
  /** Seconds a poll waits for messages (long polling), 0 to return at once. */
  readonly waitSeconds?: number
}

export type Invoke = (event: SQSEvent) => Promise<SQSBatchResponse | undefined | null>

export interface PollResult {
  readonly received: number
  readonly deleted: number
  /** Left on the queue: reported failures, or the whole batch when the invocation failed. */
  readonly leftOnQueue: number
  readonly invocationFailed: boolean
}

export class SqsEventSource {
  private readonly sqs: SQSClient

  constructor(private readonly options: EventSourceOptions) {
    this.sqs = new SQSClient({
      endpoint: options.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    })
  }

  /** One poll and, when it returned messages, one invocation with them. */
  async pollOnce(invoke: Invoke): Promise<PollResult> {
    const { Messages = [] } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: this.options.batchSize,
        WaitTimeSeconds: this.options.waitSeconds ?? 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    )
    if (Messages.length === 0) return { received: 0, deleted: 0, leftOnQueue: 0, invocationFailed: false }
    const records = Messages.map((message) => this.record(message))
    let failed: Set<string>
    let invocationFailed = false
    try {
      const response = await invoke({ Records: records })
      const ids = (response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier)
      // Lambda fails the whole batch when a reported identifier is not one of its messages.
      failed = ids.every((id) => records.some((record) => record.messageId === id))
        ? new Set(ids)
        : new Set(records.map((record) => record.messageId))
    } catch {
      invocationFailed = true
      failed = new Set(records.map((record) => record.messageId))
    }
    const done = Messages.filter((message) => !failed.has(message.MessageId ?? ''))
    if (done.length > 0) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: done.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle ?? '',
          })),
        }),
      )
    }
    return {
      received: Messages.length,
      deleted: done.length,
      leftOnQueue: Messages.length - done.length,
      invocationFailed,
    }
  }

  /** A poller that keeps polling and invoking until `stop()` says so. */
  async run(invoke: Invoke, stop: () => boolean | Promise<boolean>): Promise<PollResult[]> {
    const results: PollResult[] = []
    while (!(await stop())) {
      const result = await this.pollOnce(invoke)
      if (result.received > 0) results.push(result)
      else if ((this.options.waitSeconds ?? 0) === 0) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return results
  }

  close(): void {
    this.sqs.destroy()
  }

  private record(message: Message): SQSRecord {
    const attributes = message.Attributes ?? {}
    return {
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
        SentTimestamp: attributes.SentTimestamp ?? '',
        SenderId: attributes.SenderId ?? '',
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '',
      },
      messageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
          name,
          {
            dataType: value.DataType ?? 'String',
            ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
            stringListValues: [],
            binaryListValues: [],
          },
        ]),
      ),
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.queueArn,
      awsRegion: 'us-east-1',
    }
  }
}
