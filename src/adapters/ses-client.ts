import { SESClient } from '@aws-sdk/client-ses'
import { clientOptions } from './aws-clients.js'

/**
 * `maxAttempts: 1` for the paced sender: an SDK retry of a throttled SendBounce would be one more
 * call outside the pace; the queue retries instead.
 */
export function sesClient(region: string, options: { maxAttempts?: number } = {}): SESClient {
  return new SESClient({ ...clientOptions(region), ...options })
}
