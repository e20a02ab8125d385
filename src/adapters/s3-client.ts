import { S3Client } from '@aws-sdk/client-s3'
import { clientOptions, usesLocalS3 } from './aws-clients.js'

/**
 * `responseChecksumValidation: 'WHEN_REQUIRED'`: S3 gives every object stored without a checksum,
 * as SES stores mail, a CRC64NVME checksum (S3 API reference: Checksum), and by default the SDK
 * asks for it and computes it in JavaScript over the whole body as it is read: about 190 ms of CPU
 * for 40 MB on one core, which a 128 MB function, given a fourteenth of a vCPU, pays some fourteen
 * times over. A message is read here to decide on it, never stored or passed on, and HTTPS already
 * detects corruption in transit.
 */
export function s3Client(region: string, env: Readonly<Record<string, string | undefined>>): S3Client {
  return new S3Client({
    ...clientOptions(region),
    forcePathStyle: usesLocalS3(env),
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}
