/**
 * `npm run local-ses`: the SES query-protocol stand-in the tests use, on 127.0.0.1:4579, printing
 * every request it answers. Point `AWS_ENDPOINT_URL_SES` at it to watch real SendBounce calls.
 */
import { startSesStub } from '../test/support/ses-stub.js'

const port = Number(process.env.PORT ?? 4579)
const stub = await startSesStub({ listenPort: port })
console.log(`SES stand-in listening on ${stub.url} (Ctrl-C to stop)`)

let shown = 0
setInterval(() => {
  for (const request of stub.requests.slice(shown)) {
    console.log(`\n${request.action}`)
    for (const [name, value] of Object.entries(request.params)) console.log(`  ${name} = ${value}`)
  }
  shown = stub.requests.length
}, 200)

process.on('SIGINT', () => {
  void stub.close().then(() => process.exit(0))
})
