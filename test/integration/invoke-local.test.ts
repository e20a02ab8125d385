import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { freePort } from '../../scripts/stand-in.js'
import { type WorkCopy, workCopy } from '../../scripts/work-copy.js'
import { runCli } from '../../src/cli/main.js'
import { EVENTS_DIR, expectedOutcomes } from '../support/events.js'
import { type S3Server, startS3Server } from '../support/s3-server.js'

/**
 * `serverless invoke local` as docs/operations.md prints it, in a copy of the repository (it
 * builds into the service directory): an operator's own message through the real handler, from a
 * file or a bucket, on the local stage and on a real one; and the local stand-ins stop with npm.
 */

const INVOKE_TIMEOUT_MS = 300_000
const exeMessage = join(EVENTS_DIR, `${expectedOutcomes['executable-attachment']?.messageId}.eml`)

let copy: WorkCopy

beforeAll(() => {
  copy = workCopy()
})

afterAll(() => {
  copy?.remove()
})

async function sh(
  command: string,
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await copy.run(command, env)
  return { code, output: `${stdout}${stderr}` }
}

/** The handler's outcome line and the disposition `invoke local` printed last. */
function decided(output: string) {
  const line = output
    .split('\n')
    .filter((text) => text.startsWith('{"level"'))
    .map((text) => JSON.parse(text) as Record<string, unknown>)
    .find((entry) => Array.isArray(entry.recipients))
  const returned = [...output.matchAll(/\{\s*"disposition":\s*"(\w+)"\s*\}/g)].at(-1)?.[1]
  if (line === undefined || returned === undefined) throw new Error(`no decision in:\n${output}`)
  return { line, returned }
}

describe('serverless invoke local, as the docs print it', () => {
  it(
    'ses-bouncer event x.eml > e.json && serverless invoke local -f bounce -p e.json decides x.eml through the real handler',
    async () => {
      copyFileSync(exeMessage, join(copy.root, 'x.eml'))
      const { code, output } = await sh(
        'npx ses-bouncer event x.eml > e.json && npx serverless invoke local -f bounce -p e.json',
      )
      expect(code, output).toBe(0)
      const { line, returned } = decided(output)
      expect(line).toMatchObject({
        messageId: 'x',
        function_name: 'ses-bouncer-local-bounce',
        factsRead: 'content',
        dryRun: true,
        wouldReturn: 'STOP_RULE_SET',
        recipients: [{ recipient: 'alice@example.com', action: 'bounce', rule: 'no-executables' }],
      })
      expect(returned).toBe('CONTINUE')
    },
    INVOKE_TIMEOUT_MS,
  )

  it(
    'runs on a real stage too (--stage dev): Fn::If worked out, the message read from the file the event names',
    async () => {
      const { code, output } = await sh(
        'npx serverless invoke local -f bounce --stage dev -p e.json -e DRY_RUN=true',
      )
      expect(code, output).toBe(0)
      expect(decided(output).line).toMatchObject({
        function_name: 'ses-bouncer-dev-bounce',
        messageId: 'x',
        recipients: [{ recipient: 'alice@example.com', action: 'bounce', rule: 'unknown-recipient' }],
      })
    },
    INVOKE_TIMEOUT_MS,
  )

  it(
    'runs the bounce sender on its sample, on the local stage and on a real one, without the queue URLs only CloudFormation knows',
    async () => {
      const sent = (output: string) =>
        output
          .split('\n')
          .filter((text) => text.startsWith('{"level"'))
          .map((text) => JSON.parse(text) as { message?: string; messageId?: string })
          .filter((entry) => entry.message === 'bounce not sent: dry run')
          .map((entry) => entry.messageId)
      const local = await sh('npx serverless invoke local -f sendBounces -p events/queued-bounce.json')
      expect(local.code, local.output).toBe(0)
      expect(sent(local.output)).toEqual([
        'unknownrcpt61wb2yk2wxlxvyiiujb1vqofbr9ru',
        'partly5wl3aesg519xq49x3isaw38p3ke2f5od2g',
      ])
      expect(local.output).toMatch(/"batchItemFailures":\s*\[\]/)
      const dev = await sh(
        'npx serverless invoke local -f sendBounces --stage dev -p events/queued-bounce.json -e DRY_RUN=true -e IDEMPOTENCY_TABLE=',
      )
      expect(dev.code, dev.output).toBe(0)
      expect(sent(dev.output)).toHaveLength(2)
      expect(dev.output).toContain('BOUNCE_DEAD_LETTER_URL is not set')
    },
    INVOKE_TIMEOUT_MS,
  )

  describe('against a bucket', () => {
    let s3: S3Server

    beforeAll(async () => {
      s3 = await startS3Server({ buckets: ['local-mail'] })
    })

    afterAll(async () => {
      await s3?.close()
    })

    it(
      'reads the stored message with -e MAIL_DIR= -e MAIL_BUCKET=…; a relative -e RULES_FILE is from the project root',
      async () => {
        for (const [name, value] of Object.entries(s3.env)) vi.stubEnv(name, value)
        const stored = await runCli(['event', exeMessage, '--store', 's3://local-mail/inbound/'], process.env)
        vi.unstubAllEnvs()
        expect(stored.code, stored.stderr).toBe(0)
        writeFileSync(join(copy.root, 'stored.json'), stored.stdout)
        mkdirSync(join(copy.root, 'my-rules'))
        writeFileSync(
          join(copy.root, 'my-rules', 'rules.yml'),
          'bounceSender: mailer-daemon@example.com\nrules:\n  - name: no-exe-here\n    when: { attachment: { filename: ["*.exe"] } }\n    drop: true\n',
        )
        const { code, output } = await sh(
          'npx serverless invoke local -f bounce -p stored.json -e MAIL_DIR= -e MAIL_BUCKET=local-mail -e MAIL_PREFIX=inbound/ -e RULES_FILE=my-rules/rules.yml',
          { ...s3.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
        )
        expect(code, output).toBe(0)
        expect(decided(output).line).toMatchObject({
          factsRead: 'content',
          recipients: [{ recipient: 'alice@example.com', action: 'drop', rule: 'no-exe-here' }],
        })
      },
      INVOKE_TIMEOUT_MS,
    )
  })
})

describe('the local stand-ins', () => {
  it.each([['npm run local-ses'], ['npm run local-s3']])(
    '%s stops when the npm process the shell started is killed',
    async (command) => {
      const port = await freePort()
      const standIn = await copy.startStandIn(command, port)
      try {
        expect(await accepts(port)).toBe(true)
        // `npm run local-ses &` then `kill <the PID the shell printed>`: that PID is npm's.
        standIn.process.kill('SIGTERM')
        let open = true
        for (let attempt = 0; attempt < 40 && open; attempt++) {
          await sleep(250)
          open = await accepts(port)
        }
        expect(open).toBe(false)
      } finally {
        standIn.process.kill('SIGKILL')
      }
    },
    120_000,
  )
})

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.on('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.on('error', () => resolve(false))
  })
}
