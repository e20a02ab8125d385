import { createServer } from 'node:net'

/**
 * The local stand-ins (`npm run local-ses`, `npm run local-s3`) run in the foreground or behind
 * `&`. Stopped either way, by Ctrl-C, by `kill` on the PID the shell printed (npm's), or with the
 * terminal, they must not leave a server listening: npm does not pass a SIGTERM on to its script,
 * so the server also watches its parent and stops when it goes.
 */
export function stopWithParent(close: () => Promise<void>): void {
  let stopping = false
  const stop = (code: number) => {
    if (stopping) return
    stopping = true
    void close().finally(() => process.exit(code))
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(0))
  const parent = process.ppid
  // When the parent exits, this process is handed to init (or a subreaper): its ppid changes.
  setInterval(() => {
    if (process.ppid !== parent) stop(0)
  }, 500).unref()
}

/** A loopback port nobody listens on now, for a stand-in of one's own. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
