/**
 * `npm run local-ses`: the SES query-protocol stand-in the tests use, on 127.0.0.1:4579, printing
 * every request it answers. Stage `local` of `serverless invoke local` sends its SES calls here.
 * GetSendQuota and GetSendStatistics answer with the sample account in
 * events/send-statistics.json, its points moved forward (by whole minutes) so that the sample was
 * captured just now: the quota function then reports what the sample shows.
 * `SEND_BOUNCE_RATE=1` makes it answer `Throttling` above SES's SendBounce rate, as SES does.
 */
import { startSesStub } from '../test/support/ses-stub.js'
import { useOfflineEnvironment } from './local-env.js'
import { readSendingSample } from './sending-health-demo.js'
import { stopWithParent } from './stand-in.js'

useOfflineEnvironment()

const port = Number(process.env.PORT ?? 4579)
const rate = process.env.SEND_BOUNCE_RATE === undefined ? undefined : Number(process.env.SEND_BOUNCE_RATE)
const stub = await startSesStub({ listenPort: port, ...(rate === undefined ? {} : { sendBounceRate: rate }) })
stopWithParent(() => stub.close())

const sample = await readSendingSample()
stub.setQuota(sample.GetSendQuota)
const refresh = () => {
  const minutes = Math.floor((Date.now() - sample.capturedAt.getTime()) / 60_000)
  const shift = minutes * 60_000
  stub.setStatistics(
    sample.GetSendStatistics.SendDataPoints.map((point) => ({
      ...point,
      Timestamp: new Date(point.Timestamp.getTime() + shift),
    })),
  )
}
refresh()
setInterval(refresh, 10_000)

console.log(`SES stand-in listening on ${stub.url} (pid ${process.pid}; Ctrl-C to stop)`)
console.log('GetSendQuota and GetSendStatistics answer with events/send-statistics.json, moved to now')

let shown = 0
setInterval(() => {
  for (const request of stub.requests.slice(shown)) {
    console.log(`\n${new Date(request.at).toISOString().slice(11, 23)} ${request.action}`)
    for (const [name, value] of Object.entries(request.params)) console.log(`  ${name} = ${value}`)
  }
  shown = stub.requests.length
}, 200)
