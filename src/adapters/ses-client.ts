import { SESClient } from '@aws-sdk/client-ses'
import { clientOptions } from './aws-clients.js'

export function sesClient(region: string): SESClient {
  return new SESClient(clientOptions(region))
}
