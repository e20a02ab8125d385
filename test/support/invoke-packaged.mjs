// Runs a packaged function as Lambda runs it: in a bare `node` whose working directory is the
// extracted zip (Lambda's /var/task), the handler imported as an ES module, each event invoked
// with a Lambda-like context. Nothing outside the zip is reachable: no node_modules, no sources.
//
//   cd <extracted zip> && node invoke-packaged.mjs handlers/bounce.handler [events.json]
//
// The handler's own log lines go to stdout as usual; the last line, after `@@result `, is JSON:
// how long the import took, the memory after it, each event's result (with its wall and CPU
// milliseconds) or error, and the memory at the end (RSS now and the kernel's high-water mark,
// VmHWM, since the process started).

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [handlerSpec = '', eventsFile] = process.argv.slice(2)
const dot = handlerSpec.lastIndexOf('.')
const [file, name] = [handlerSpec.slice(0, dot), handlerSpec.slice(dot + 1)]

function memory() {
  const status = readFileSync('/proc/self/status', 'utf8')
  return {
    rss: process.memoryUsage.rss(),
    peak: Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024,
  }
}

const started = performance.now()
const module = await import(pathToFileURL(join(process.cwd(), `${file}.js`)).href)
const importMs = performance.now() - started
const afterImport = memory()

const events = eventsFile === undefined ? [] : JSON.parse(readFileSync(eventsFile, 'utf8'))
const results = []
for (const event of events) {
  const deadline = Date.now() + 25_000
  const context = {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'ses-bouncer-packaged',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ses-bouncer-packaged',
    memoryLimitInMB: '128',
    awsRequestId: `packaged-${results.length}`,
    logGroupName: '/aws/lambda/ses-bouncer-packaged',
    logStreamName: 'packaged',
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  }
  const invoked = performance.now()
  const cpu = process.cpuUsage()
  try {
    const result = await module[name](event, context)
    const { user, system } = process.cpuUsage(cpu)
    results.push({ result, ms: performance.now() - invoked, cpuMs: (user + system) / 1000 })
  } catch (error) {
    results.push({ error: error instanceof Error ? error.message : String(error) })
  }
}
process.stdout.write(`\n@@result ${JSON.stringify({ importMs, afterImport, results, end: memory() })}\n`)
