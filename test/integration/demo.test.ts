import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { expectedOutcomes, receiptCases } from '../support/events.js'
import { AN_ADDRESS } from '../support/lambda.js'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..', '..')

describe('npm run demo', () => {
  it('with LOG_ADDRESSES=hash shows no address, in the table or in any log line', async () => {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--logs'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        LOG_ADDRESSES: 'hash',
        LOG_ADDRESS_KEY: 'demo-test-key-0123456789abcdef0123',
      },
      timeout: 60_000,
    })
    expect(stderr).toBe('')
    const logLines = stdout.split('\n').filter((line) => line.startsWith('{'))
    expect(logLines.length).toBeGreaterThan(receiptCases().length)
    expect(stdout).not.toMatch(AN_ADDRESS)
  })

  it('prints every sample case with its expected decision, offline', async () => {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
      cwd: root,
      // No credentials and no endpoints: the demo must set up its own offline environment.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      timeout: 60_000,
    })
    expect(stderr).toBe('')
    const rows = stdout.split('\n').map((line) => line.trim().split(/\s{2,}/))
    for (const name of receiptCases()) {
      if (expectedOutcomes[name]?.problems !== undefined) {
        const row = rows.find((cells) => cells[0] === name)
        expect(row?.slice(1), name).toEqual(['-', 'not usable', '-', '-', '-', '-', 'CONTINUE'])
        expect(stdout).toContain(
          `${name}: not usable, nothing read or sent: ${expectedOutcomes[name]?.problems?.join('; ')}`,
        )
        continue
      }
      for (const [recipient, outcome] of Object.entries(expectedOutcomes[name]?.recipients ?? {})) {
        const row = rows.find((cells) => cells[0] === name && cells[1] === recipient)
        expect(row, `${name} ${recipient}`).toBeDefined()
        expect(row?.slice(2, 6)).toEqual([
          outcome.action,
          outcome.rule ?? '-',
          outcome.status ?? '-',
          outcome.guard ?? '-',
        ])
      }
    }
    expect(stdout).toContain('14 SendBounce request(s) would be sent')
    expect(stdout).toContain(
      'unusable-recipients: invite@ is never bounced (no domain: SES never sends such a recipient)',
    )
    expect(stdout).toContain('Daily quota: 85,041 of 100,000 sent in the last 24 hours (85.04% used)')
    expect(stdout).toContain('Bounce rate (last 14 days): 6.26%, at or above the alert threshold of 5%')
  })
})
