import { type MessageTag, type SESClient, SendEmailCommand, SendRawEmailCommand } from '@aws-sdk/client-ses'
import type { AlertMail, Digest } from '../domain/sending-health.js'
import { NotificationFailedError, type Notifier } from '../ports/sending-health.js'
import { describeAwsError } from './aws-errors.js'
import { composeDigestMessage } from './digest-mail.js'

export interface MailTag {
  readonly name: string
  readonly value: string
}

export interface SesNotifierOptions {
  /** A verified SES identity. */
  readonly from: string
  readonly configurationSet?: string
  readonly tags: readonly MailTag[]
}

/** Alerts as plain SendEmail; the digest, which needs an attachment, as SendRawEmail. */
export class SesNotifier implements Notifier {
  constructor(
    private readonly ses: SESClient,
    private readonly options: SesNotifierOptions,
  ) {}

  async sendAlert(to: readonly string[], mail: AlertMail, signal: AbortSignal): Promise<string> {
    const command = new SendEmailCommand({
      Source: this.options.from,
      Destination: { ToAddresses: [...to] },
      Message: {
        Subject: { Data: mail.subject, Charset: 'UTF-8' },
        Body: { Text: { Data: mail.text, Charset: 'UTF-8' } },
      },
      ...this.sendingOptions(),
    })
    try {
      const response = await this.ses.send(command, { abortSignal: signal })
      return response.MessageId ?? ''
    } catch (error) {
      throw new NotificationFailedError(`SendEmail (alert to ${to.join(', ')}): ${describeAwsError(error)}`, {
        cause: error,
      })
    }
  }

  async sendDigest(to: readonly string[], digest: Digest, signal: AbortSignal): Promise<string> {
    const raw = await composeDigestMessage({ from: this.options.from, to, digest })
    const command = new SendRawEmailCommand({
      Source: this.options.from,
      Destinations: [...to],
      RawMessage: { Data: raw },
      ...this.sendingOptions(),
    })
    try {
      const response = await this.ses.send(command, { abortSignal: signal })
      return response.MessageId ?? ''
    } catch (error) {
      throw new NotificationFailedError(
        `SendRawEmail (digest to ${to.join(', ')}): ${describeAwsError(error)}`,
        { cause: error },
      )
    }
  }

  private sendingOptions(): { ConfigurationSetName?: string; Tags?: MessageTag[] } {
    const { configurationSet, tags } = this.options
    return {
      ...(configurationSet === undefined ? {} : { ConfigurationSetName: configurationSet }),
      ...(tags.length === 0 ? {} : { Tags: tags.map((tag) => ({ Name: tag.name, Value: tag.value })) }),
    }
  }
}
