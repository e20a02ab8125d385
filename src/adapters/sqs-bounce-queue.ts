import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { QueuedBounce } from '../domain/queued-bounce.js'
import { type BounceQueue, TransientFailureError } from '../ports/index.js'
import { describeAwsError } from './aws-errors.js'
import { encodeQueuedBounce } from './queued-bounce-message.js'

/** The bounce queue on SQS: one message per bounce, the exact SendBounce request in its body. */
export class SqsBounceQueue implements BounceQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(bounce: QueuedBounce, signal: AbortSignal): Promise<string> {
    try {
      const response = await this.sqs.send(
        new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: encodeQueuedBounce(bounce) }),
        { abortSignal: signal },
      )
      return response.MessageId ?? ''
    } catch (error) {
      // Whatever the cause (throttling, access denied, a deleted queue), the bounce is not queued:
      // the caller fails open and releases its claim so that a retried event can queue it.
      throw new TransientFailureError(
        `SendMessage for ${bounce.request.OriginalMessageId}: ${describeAwsError(error)}`,
        { cause: error },
      )
    }
  }
}

/**
 * Where the sender puts a queue message it cannot read: the dead-letter queue, with the reason as
 * a message attribute, so the operator sees it at once (alarm) with its body intact.
 */
export class SqsDeadLetters {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async put(body: string, reason: string, signal: AbortSignal): Promise<void> {
    try {
      await this.sqs.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: body === '' ? '(empty)' : body,
          MessageAttributes: {
            // Attribute values are bounded like the body; the reason never needs more than this.
            reason: { DataType: 'String', StringValue: reason.slice(0, 2048) },
          },
        }),
        { abortSignal: signal },
      )
    } catch (error) {
      throw new TransientFailureError(`SendMessage to the dead-letter queue: ${describeAwsError(error)}`, {
        cause: error,
      })
    }
  }
}
