import { type SESClient, SendBounceCommand, type SendBounceCommandInput } from '@aws-sdk/client-ses'
import type { SendBounceRequest } from '../domain/bounce-request.js'
import {
  BounceRejectedError,
  type BounceSender,
  BounceThrottledError,
  TransientFailureError,
} from '../ports/index.js'
import { describeAwsError, isThrottlingAwsError, isTransientAwsError } from './aws-errors.js'

/** SES v1 SendBounce: SESv2 has no bounce operation (ses-facts §1.1). */
export class SesBounceSender implements BounceSender {
  constructor(private readonly ses: SESClient) {}

  async send(request: SendBounceRequest, signal: AbortSignal): Promise<string> {
    try {
      // The domain request is the SDK's input field for field, only read-only.
      const input = request as unknown as SendBounceCommandInput
      const response = await this.ses.send(new SendBounceCommand(input), { abortSignal: signal })
      return response.MessageId ?? ''
    } catch (error) {
      const message = `SendBounce for ${request.OriginalMessageId}: ${describeAwsError(error)}`
      // The paced sender backs off longer after a throttle than after other transient faults.
      if (isThrottlingAwsError(error)) throw new BounceThrottledError(message, { cause: error })
      // MessageRejected and every other client fault (AccessDenied, InvalidParameterValue) are final.
      if (isTransientAwsError(error)) throw new TransientFailureError(message, { cause: error })
      throw new BounceRejectedError(message, { cause: error })
    }
  }
}
