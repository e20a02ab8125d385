import { S3Client } from '@aws-sdk/client-s3'
import { clientOptions, usesLocalS3 } from './aws-clients.js'

export function s3Client(region: string, env: Readonly<Record<string, string | undefined>>): S3Client {
  return new S3Client({ ...clientOptions(region), forcePathStyle: usesLocalS3(env) })
}
