import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { MessageContent } from '../domain/message.js'
import { type MessageSource, MessageUnavailableError } from '../ports/index.js'
import { parseMessage } from './mime-parser.js'

/** Reads `<directory>/<messageId>.eml`: local runs, the demo and `ses-bouncer check`. */
export class DirectoryMessageSource implements MessageSource {
  constructor(private readonly directory: string) {}

  async size(messageId: string): Promise<number> {
    try {
      return (await stat(this.pathOf(messageId))).size
    } catch (error) {
      throw new MessageUnavailableError(`cannot read ${this.pathOf(messageId)}`, { cause: error })
    }
  }

  async read(messageId: string, signal: AbortSignal): Promise<MessageContent> {
    const size = await this.size(messageId)
    return parseMessage(createReadStream(this.pathOf(messageId)), signal, size)
  }

  private pathOf(messageId: string): string {
    // The schema admits only [A-Za-z0-9._-] in message ids; this keeps a crafted id inside the directory.
    return join(this.directory, `${messageId.replace(/[^A-Za-z0-9._-]/g, '_')}.eml`)
  }
}
