import { execFile } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { runCli } from '../../src/cli/main.js'
import { EVENTS_DIR, expectedOutcomes, messageBytes } from '../support/events.js'
import { type S3Server, startS3Server } from '../support/s3-server.js'

const root = join(import.meta.dirname, '..', '..')
const rules = join(EVENTS_DIR, 'bounce-rules.yml')
const eml = (name: string) => join(EVENTS_DIR, `${expectedOutcomes[name]?.messageId}.eml`)
const env = { AWS_REGION: 'us-east-1' }

describe('ses-bouncer validate', () => {
  it('accepts the sample rules and names them', async () => {
    const result = await runCli(['validate', rules], env)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(
      'is valid: 7 rules (partners, blocked-senders, dmarc-reject, unknown-recipient',
    )
  })

  it('lists every problem with its path and exits 1', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'validate-'))
    const file = join(directory, 'bounce-rules.yml')
    await writeFile(
      file,
      'bounceSender: nobody\nrules:\n  - name: a\n    when: { size: { over: 10X } }\n    bounce: { type: Nope }\n  - name: a\n    accept: true\n',
    )
    const result = await runCli(['validate', file], env)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('bounceSender: expected an address')
    expect(result.stderr).toContain('rules[0].when.size.over: expected a size like 10M')
    expect(result.stderr).toContain('rules[0].bounce.type')
    expect(result.stderr).toContain('rules[1].name: duplicate rule name "a"')
  })

  it('is wrong usage without a file (exit 2)', async () => {
    expect((await runCli(['validate'], env)).code).toBe(2)
  })
})

describe('ses-bouncer check', () => {
  it('prints the decision, rule, status, guard and diagnostic per recipient', async () => {
    const result = await runCli(
      ['check', eml('executable-attachment'), eml('null-sender'), '--rules', rules],
      env,
    )
    expect(result.code).toBe(0)
    const rows = result.stdout.split('\n').map((line) => line.split(/\s{2,}/))
    expect(rows).toContainEqual([
      `${expectedOutcomes['executable-attachment']?.messageId}.eml`,
      'alice@example.com',
      'bounce',
      'no-executables',
      '5.7.1',
      '-',
      'STOP_RULE_SET',
      'smtp; 550 5.7.1 Message content rejected',
    ])
    expect(rows).toContainEqual([
      `${expectedOutcomes['null-sender']?.messageId}.eml`,
      'nobody@example.com',
      'drop',
      'unknown-recipient',
      '5.1.1',
      'nullSender',
      'STOP_RULE_SET',
      'smtp; 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown',
    ])
  })

  it('takes the facts from an SES event, and overrides from the command line (--json)', async () => {
    const fromEvent = await runCli(
      [
        'check',
        eml('partly-unknown'),
        '--rules',
        rules,
        '--event',
        join(EVENTS_DIR, 'partly-unknown.json'),
        '--json',
      ],
      env,
    )
    expect(fromEvent.code).toBe(0)
    const [report] = JSON.parse(fromEvent.stdout)
    expect(report.disposition).toBe('CONTINUE')
    expect(
      report.recipients.map((r: { recipient: string; decision: string }) => [r.recipient, r.decision]),
    ).toEqual([
      ['alice@example.com', 'accept'],
      ['ghost@example.com', 'bounce'],
      ['Phantom@Example.com', 'bounce'],
    ])
    expect(report.bounceRequest.BouncedRecipientInfoList).toHaveLength(2)

    const spam = await runCli(
      [
        'check',
        eml('unknown-recipient'),
        '--rules',
        rules,
        '--verdict',
        'spam=FAIL',
        '--recipient',
        'x@example.com',
        '--json',
      ],
      env,
    )
    const [spamReport] = JSON.parse(spam.stdout)
    expect(spamReport.recipients).toEqual([
      {
        recipient: 'x@example.com',
        decision: 'drop',
        rule: 'unknown-recipient',
        status: '5.1.1',
        diagnostic: 'smtp; 550 5.1.1 <x@example.com>: Recipient address rejected: User unknown',
        guard: 'spam',
      },
    ])
  })

  it('fails clearly on an invalid rules file, an unreadable message or wrong usage', async () => {
    const missingRules = await runCli(['check', eml('accepted'), '--rules', '/nonexistent/rules.yml'], env)
    expect(missingRules.code).toBe(1)
    expect(missingRules.stderr).toContain('cannot read /nonexistent/rules.yml')

    const missingMessage = await runCli(['check', '/nonexistent/message.eml', '--rules', rules], env)
    expect(missingMessage.code).toBe(1)
    expect(missingMessage.stderr).toContain('/nonexistent/message.eml')

    const badVerdict = await runCli(
      ['check', eml('accepted'), '--rules', rules, '--verdict', 'spam=MAYBE'],
      env,
    )
    expect(badVerdict.code).toBe(2)
    expect(badVerdict.stderr).toContain('--verdict spam=MAYBE')
  })
})

describe('ses-bouncer replay', () => {
  let s3: S3Server

  beforeAll(async () => {
    s3 = await startS3Server({ buckets: ['mail-archive'] })
    for (const { messageId } of Object.values(expectedOutcomes)) {
      await s3.putObject('mail-archive', `inbound/${messageId}`, messageBytes(messageId))
    }
    await s3.putObject('mail-archive', 'elsewhere/not-replayed', Buffer.from('From: x@y.example\r\n\r\n'))
  })

  afterAll(async () => {
    await s3?.close()
  })

  it('summarises a folder of stored messages per rule, decision and guard', async () => {
    const result = await runCli(['replay', EVENTS_DIR, '--rules', rules, '--json'], env)
    expect(result.code).toBe(0)
    const summary = JSON.parse(result.stdout)
    expect(summary.messages).toBe(24)
    expect(summary.unreadable).toEqual([])
    expect(summary.bounceMessages).toBe(8)
    expect(summary.guards).toEqual({
      autoSubmitted: 2,
      forgedSender: 3,
      nullSender: 2,
      spam: 1,
      unverifiedSender: 1,
      virus: 1,
    })
    expect(summary.byRule).toContainEqual({
      rule: 'no-executables',
      decision: 'bounce',
      recipients: 1,
      messages: 1,
    })
  })

  it('replays every object under an S3 prefix, with the same result', async () => {
    // The AWS SDK reads its endpoint from the process environment, as it would for an operator.
    vi.stubEnv('AWS_ENDPOINT_URL_S3', s3.url)
    const fromS3 = await runCli(
      ['replay', 's3://mail-archive/inbound/', '--rules', rules, '--json'],
      process.env,
    )
    vi.unstubAllEnvs()
    expect(fromS3.code, fromS3.stderr).toBe(0)
    const fromFolder = await runCli(['replay', EVENTS_DIR, '--rules', rules, '--json'], env)
    const { source: _s3, ...s3Summary } = JSON.parse(fromS3.stdout)
    const { source: _folder, ...folderSummary } = JSON.parse(fromFolder.stdout)
    expect(s3Summary).toEqual(folderSummary)
  })

  it('prints a readable table without --json', async () => {
    const result = await runCli(['replay', EVENTS_DIR, '--rules', rules], env)
    expect(result.stdout).toContain('replayed 24 messages (25 recipients)')
    expect(result.stdout).toMatch(/no-executables\s+bounce\s+1\s+1/)
    expect(result.stdout).toContain('the function would have sent 8 SendBounce request(s)')
  })
})

describe('the bin', () => {
  it('runs as `npx ses-bouncer` would, exit status included', async () => {
    const run = promisify(execFile)
    const { stdout } = await run(process.execPath, ['bin/ses-bouncer.mjs', 'validate', rules], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    })
    expect(stdout).toContain('is valid')
    await expect(
      run(process.execPath, ['bin/ses-bouncer.mjs', 'check'], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '' },
      }),
    ).rejects.toMatchObject({ code: 2 })
  })
})
