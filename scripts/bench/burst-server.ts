// One local stand-in for `npm run bench:burst`, in a process of its own so that its clock and
// event loop are not the benchmark's: the SES stub (its rate limit stamps each call as it
// arrives), dynalite or fauxqs. Started by burst.ts with the job as JSON in argv[2]; answers
// over IPC.

import { type DynamoServer, startDynamo } from '../../test/support/dynamo-server.js'
import { type SesStub, startSesStub } from '../../test/support/ses-stub.js'
import { type SqsServer, startSqs } from '../../test/support/sqs-server.js'

export type ServerJob =
  | { readonly kind: 'ses'; readonly sendBounceRate: number }
  | { readonly kind: 'dynamo'; readonly table: string }
  | {
      readonly kind: 'sqs'
      /** Created in order, so a redrive policy can name a queue made before it. */
      readonly queues: readonly { readonly name: string; readonly attributes: Record<string, string> }[]
    }

export type ServerStarted = { readonly url: string; readonly queues?: Record<string, string> }

/** Every SendBounce the SES stub saw, in arrival order. */
export interface SendBounceCall {
  readonly at: number
  readonly status: number
  readonly originalMessageId: string
}

const job = JSON.parse(process.argv[2] ?? '') as ServerJob
let ses: SesStub | undefined
let dynamo: DynamoServer | undefined
let sqs: SqsServer | undefined
const queues: Record<string, string> = {}

if (job.kind === 'ses') ses = await startSesStub({ sendBounceRate: job.sendBounceRate })
if (job.kind === 'dynamo') dynamo = await startDynamo({ tables: [{ name: job.table, partitionKey: 'id' }] })
if (job.kind === 'sqs') {
  sqs = await startSqs()
  for (const queue of job.queues)
    queues[queue.name] = (await sqs.createQueue(queue.name, queue.attributes)).url
}
const url = ses?.url ?? dynamo?.url ?? sqs?.url ?? ''
process.send?.({ url, ...(job.kind === 'sqs' ? { queues } : {}) } satisfies ServerStarted)

process.on('message', async (message: { kind: 'report' | 'depth' | 'stop'; id?: number; queue?: string }) => {
  if (message.kind === 'report') {
    const calls: SendBounceCall[] = (ses?.requestsFor('SendBounce') ?? []).map((request) => ({
      at: request.at,
      status: request.status,
      originalMessageId: request.params.OriginalMessageId ?? '',
    }))
    process.send?.({ id: message.id, calls })
  } else if (message.kind === 'depth') {
    process.send?.({ id: message.id, ...(await sqs?.depth(message.queue ?? '')) })
  } else {
    await Promise.all([ses?.close(), dynamo?.close(), sqs?.close()])
    process.exit(0)
  }
})
