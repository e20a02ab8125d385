#!/usr/bin/env node
// ses-bouncer's command line. It runs the TypeScript sources through tsx, so the commands use the
// very code the Lambda handler is built from.
import { register } from 'tsx/esm/api'

process.env.AWS_EC2_METADATA_DISABLED ??= 'true'
// Output piped into `head` and closed early: stop quietly, as other tools do.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0)
})
// A failure outside any command's own handling is still one line, never a stack trace.
process.on('uncaughtException', (error) => {
  process.stderr.write(`ses-bouncer: ${error?.message ?? error}\n`)
  process.exit(1)
})
register()
const { main } = await import('../src/cli/main.ts')
const { outputTo } = await import('../src/cli/output.ts')
const output = outputTo(
  (text) => process.stdout.write(text),
  (text) => process.stderr.write(text),
  process.stderr.isTTY ? process.stderr : undefined,
)
process.exitCode = await main(process.argv.slice(2), process.env, output)
