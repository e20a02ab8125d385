#!/usr/bin/env node
// ses-bouncer's command line. It runs the TypeScript sources through tsx, so the commands use the
// very code the Lambda handler is built from.
import { register } from 'tsx/esm/api'

process.env.AWS_EC2_METADATA_DISABLED ??= 'true'
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
register()
const { runCli } = await import('../src/cli/main.ts')
const result = await runCli(process.argv.slice(2), process.env, Boolean(process.stderr.isTTY))
process.stdout.write(result.stdout)
process.stderr.write(result.stderr)
process.exitCode = result.code
