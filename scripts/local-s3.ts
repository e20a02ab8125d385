/**
 * `npm run local-s3`: an S3 stand-in (s3rver) on 127.0.0.1:4568 with one bucket, `local-mail`, to
 * run `serverless invoke local` against a bucket as the deployed function reads one. Store a
 * message in it with `npx ses-bouncer event x.eml --store s3://local-mail/inbound/` (with
 * AWS_ENDPOINT_URL_S3 pointing here). Its contents go when it stops.
 */
import { startS3Server } from '../test/support/s3-server.js'
import { useOfflineEnvironment } from './local-env.js'
import { stopWithParent } from './stand-in.js'

useOfflineEnvironment()

const port = Number(process.env.PORT ?? 4568)
const bucket = process.env.BUCKET ?? 'local-mail'
const s3 = await startS3Server({ buckets: [bucket], port })
stopWithParent(() => s3.close())
console.log(
  `S3 stand-in listening on ${s3.url} with the bucket ${bucket} (pid ${process.pid}; Ctrl-C to stop)`,
)
console.log(`use it with AWS_ENDPOINT_URL_S3=${s3.url} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local`)
