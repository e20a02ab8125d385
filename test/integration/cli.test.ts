import { execFile } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { SesReceiptEventSchema } from '../../src/adapters/ses-event.js'
import { runCli } from '../../src/cli/main.js'
import { addressToken } from '../../src/runtime/log-addresses.js'
import { EVENTS_DIR, expectedOutcomes, messageBytes } from '../support/events.js'
import { type S3Server, startS3Server } from '../support/s3-server.js'

const root = join(import.meta.dirname, '..', '..')
const rules = join(EVENTS_DIR, 'bounce-rules.yml')
const eml = (name: string) => join(EVENTS_DIR, `${expectedOutcomes[name]?.messageId}.eml`)
const env = { AWS_REGION: 'us-east-1' }
const ESCAPES = join(root, 'test', 'fixtures', 'cli', 'terminal-escapes.eml')
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test is that none reach the terminal
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

/** The table rows of `check` output, cells split on the column gaps. */
const tableRows = (stdout: string) => stdout.split('\n').map((line) => line.split(/\s{2,}/))

async function scratch(files: Record<string, string>): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'cli-'))
  for (const [name, text] of Object.entries(files)) await writeFile(join(directory, name), text)
  return directory
}

describe('ses-bouncer validate', () => {
  it('accepts the sample rules and names them, with no warning', async () => {
    const result = await runCli(['validate', rules], env)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(
      'is valid: 7 rules (partners, blocked-senders, dmarc-reject, unknown-recipient',
    )
    expect(result.stdout).not.toContain('warning')
  })

  it('lists every problem with the rule, its line and column, the bad value and a suggestion', async () => {
    const directory = await scratch({
      'bounce-rules.yml':
        'bounceSender: nobody\nrules:\n  - name: a\n    when: { size: { over: 10X } }\n    bounce: { type: Nope }\n  - name: unknown-mailbox\n    when: { recipent: { notIn: [a@example.com] } }\n    drop: true\n',
    })
    const result = await runCli(['validate', join(directory, 'bounce-rules.yml')], env)
    expect(result.code).toBe(1)
    expect(result.stderr.split('\n')).toEqual([
      `ses-bouncer validate: Invalid rules file ${join(directory, 'bounce-rules.yml')} (4 problems):`,
      '  - bounceSender (line 1, column 1): expected an address like mailer-daemon@example.com; got "nobody"',
      '  - rules[0] "a" when.size.over (line 4, column 21): expected a size like 10M (bytes; K and M are 1024-based); got "10X"',
      '  - rules[0] "a" bounce.type (line 5, column 15): expected one of DoesNotExist, MessageTooLarge, ExceededQuota, ContentRejected, Undefined, TemporaryFailure; got "Nope"',
      '  - rules[1] "unknown-mailbox" when.recipent (line 7, column 13): unknown key; did you mean "recipient"?',
      '',
    ])
  })

  it('warns about rules that are valid but risky, with their line; --strict fails on them', async () => {
    const directory = await scratch({
      'bounce-rules.yml':
        'bounceSender: mailer-daemon@example.com\nrules:\n  - name: partners\n    when: { from: { in: ["*@partner.example"] } }\n    accept: true\n',
    })
    const file = join(directory, 'bounce-rules.yml')
    const result = await runCli(['validate', file], env)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(
      'warning: rules[0] "partners" (line 3, column 5): accepts on the From header alone, which anyone can forge',
    )
    expect((await runCli(['validate', file, '--strict'], env)).code).toBe(1)
  })

  it('is wrong usage without a file (exit 2)', async () => {
    expect((await runCli(['validate'], env)).code).toBe(2)
  })
})

describe('ses-bouncer check', () => {
  it('prints the decision, rule, status, guard and what the function returns, per recipient', async () => {
    const result = await runCli(
      ['check', eml('executable-attachment'), eml('null-sender'), '--rules', rules],
      env,
    )
    expect(result.code).toBe(0)
    const rows = tableRows(result.stdout)
    expect(rows).toContainEqual([
      `${expectedOutcomes['executable-attachment']?.messageId}.eml`,
      'alice@example.com',
      'bounce',
      'no-executables',
      '5.7.1',
      '-',
      'STOP_RULE_SET',
    ])
    expect(rows).toContainEqual([
      `${expectedOutcomes['null-sender']?.messageId}.eml`,
      'nobody@example.com',
      'drop',
      'unknown-recipient',
      '5.1.1',
      'nullSender',
      'STOP_RULE_SET',
    ])
  })

  it('names the evidence: the attachment as decoded, the list file and line, the header part', async () => {
    const result = await runCli(
      [
        'check',
        eml('executable-attachment'),
        eml('blocked-sender'),
        eml('header-rule'),
        eml('null-sender'),
        '--rules',
        rules,
      ],
      env,
    )
    expect(result.stdout).toContain(
      '    attachment "Rechnung März.exe" (application/octet-stream): name matches "*.exe"',
    )
    expect(result.stdout).toContain(
      '    envelope sender offers@spam.example is in blocked-senders.txt line 2: "*@spam.example"',
    )
    expect(result.stdout).toContain('    header List-Unsubscribe is present: "<https://cloudweekly.example/')
    expect(result.stdout).toContain('    recipient nobody@example.com is not in mailboxes.txt')
    expect(result.stdout).toContain('    safety guard nullSender turned the bounce into a silent drop')
  })

  it('--preview shows the bounce as the sender will read it, from the request the function would send', async () => {
    const result = await runCli(['check', eml('partly-unknown'), '--rules', rules, '--preview'], env)
    const preview = result.stdout.slice(result.stdout.indexOf('  the bounce to'))
    expect(preview.split('\n').slice(0, 16)).toEqual([
      "  the bounce to priya@contoso.example, as SES builds it from the function's SendBounce request:",
      '    From: mailer-daemon@example.com',
      '    Content-Type: multipart/report; report-type=delivery-status',
      '    text/plain:',
      '      Your message could not be delivered to one or more recipients.',
      '    message/delivery-status:',
      '      Reporting-MTA: dns; mx.example.com',
      expect.stringMatching(/^ {6}Arrival-Date: \w{3}, \d\d \w{3} 2026 \d\d:\d\d:\d\d \+0000$/),
      '      X-Support-Contact: postmaster@example.com',
      '',
      '      Final-Recipient: rfc822; ghost@example.com',
      '      Action: failed',
      '      Status: 5.1.1',
      '      Diagnostic-Code: smtp; 550 5.1.1 <ghost@example.com>: Recipient address rejected: User unknown',
      '',
      expect.any(String),
    ])
  })

  it('for rules in dry run, returns CONTINUE with what enforcement would return beside it', async () => {
    const directory = await scratch({
      'bounce-rules.yml':
        'bounceSender: mailer-daemon@example.com\nmode: dry-run\nrules:\n  - name: unknown\n    when: { recipient: { notIn: [alice@example.com] } }\n    bounce: { type: DoesNotExist }\n',
    })
    const args = ['check', eml('unknown-recipient'), '--rules', join(directory, 'bounce-rules.yml')]
    const text = await runCli(args, env)
    expect(tableRows(text.stdout)[2]?.at(-1)).toBe('CONTINUE (enforce: STOP_RULE_SET)')
    const [report] = JSON.parse((await runCli([...args, '--json'], env)).stdout)
    expect(report).toMatchObject({ disposition: 'CONTINUE', wouldReturn: 'STOP_RULE_SET' })
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
        evidence: [
          {
            kind: 'address',
            field: 'recipient',
            addresses: ['x@example.com'],
            negate: true,
            list: 'mailboxes.txt',
          },
        ],
      },
    ])
  })

  it('no longer accepts an executable "from a partner" whose DMARC fails (the From is forged)', async () => {
    const partner = eml('partner')
    const genuine = await runCli(['check', partner, '--rules', rules, '--json'], env)
    expect(JSON.parse(genuine.stdout)[0].recipients[0]).toMatchObject({
      decision: 'accept',
      rule: 'partners',
    })
    const forged = await runCli(
      ['check', partner, '--rules', rules, '--verdict', 'dmarc=FAIL', '--json'],
      env,
    )
    expect(JSON.parse(forged.stdout)[0].recipients[0]).toMatchObject({
      decision: 'bounce',
      rule: 'no-executables',
    })
  })

  it('says so when a message names no recipient, instead of printing an empty table', async () => {
    const directory = await scratch({
      'no-recipient.eml': 'From: a@b.example\r\nSubject: hi\r\n\r\nbody\r\n',
    })
    const result = await runCli(['check', join(directory, 'no-recipient.eml'), '--rules', rules], env)
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(
      `ses-bouncer check: ${join(directory, 'no-recipient.eml')}: no recipient found (no "Received: … for <address>" line, no To or Cc): name one with --recipient ADDR\n`,
    )
  })

  it('fails in one line on an unreadable rules file, message or event; wrong usage is exit 2', async () => {
    const missingRules = await runCli(['check', eml('accepted'), '--rules', '/nonexistent/rules.yml'], env)
    expect(missingRules).toEqual({
      code: 1,
      stdout: '',
      stderr: 'ses-bouncer check: cannot read /nonexistent/rules.yml: no such file\n',
    })
    const missingMessage = await runCli(['check', 'missing.eml', '--rules', rules], env)
    expect(missingMessage).toEqual({
      code: 1,
      stdout: '',
      stderr: 'ses-bouncer check: cannot read missing.eml: no such file\n',
    })
    const directory = await runCli(['check', EVENTS_DIR, '--rules', rules], env)
    expect(directory.stderr).toBe(`ses-bouncer check: cannot read ${EVENTS_DIR}: it is a directory\n`)
    const missingEvent = await runCli(['check', eml('accepted'), '--rules', rules, '--event', 'no.json'], env)
    expect(missingEvent.stderr).toBe('ses-bouncer check: cannot read no.json: no such file\n')

    const badVerdict = await runCli(
      ['check', eml('accepted'), '--rules', rules, '--verdict', 'spam=MAYBE'],
      env,
    )
    expect(badVerdict.code).toBe(2)
    expect(badVerdict.stderr).toContain('--verdict spam=MAYBE')
    const typo = await runCli(['check', eml('accepted'), '--rulez', rules], env)
    expect(typo.code).toBe(2)
    expect(typo.stderr.split('\n')[0]).toBe(
      "ses-bouncer check: Unknown option '--rulez'; did you mean --rules?",
    )
  })

  it('escapes control characters a sender put in names and headers; --json stays exact', async () => {
    const rulesFile = join(
      await scratch({
        'rules.yml':
          'bounceSender: mailer-daemon@example.com\nrules:\n  - name: mass-mailer\n    when: { header: { name: X-Mailer, contains: mailer } }\n    drop: true\n',
      }),
      'rules.yml',
    )
    for (const args of [
      ['check', ESCAPES, '--rules', rules, '--preview'],
      ['check', ESCAPES, '--rules', rulesFile],
      ['replay', join(root, 'test', 'fixtures', 'cli'), '--rules', rules],
    ]) {
      const result = await runCli(args, env)
      expect(result.code, result.stderr).toBe(0)
      expect(result.stdout).not.toMatch(CONTROL)
      expect(result.stderr).not.toMatch(CONTROL)
    }
    const text = await runCli(['check', ESCAPES, '--rules', rules], env)
    expect(text.stdout).toContain('attachment "\\x1b[2J\\x1b[31minvoice\\u202efdp.exe"')
    const header = await runCli(['check', ESCAPES, '--rules', rulesFile], env)
    expect(header.stdout).toContain('header X-Mailer contains: "Mass\\x1b[2J[Mailer]"')

    const badRules = await scratch({
      'rules.yml': 'bounceSender: "x\\x9b2J\\u202e@example.com"\nrules: []\n',
    })
    // refused (a bounce sender with a control or bidi character), and the refusal shows it escaped
    const validated = await runCli(['validate', join(badRules, 'rules.yml')], env)
    expect(validated.code).toBe(1)
    expect(validated.stdout + validated.stderr).not.toMatch(CONTROL)
    expect(validated.stderr).toContain(
      'bounceSender (line 1, column 1): expected an address like mailer-daemon@example.com; got "x\\x9b2J\\u202e@example.com"',
    )

    const json = await runCli(['check', ESCAPES, '--rules', rules, '--json'], env)
    expect(JSON.parse(json.stdout)[0].recipients[0].evidence[0].filename).toBe(
      '\u001b[2J\u001b[31minvoice\u202efdp.exe',
    )
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

  const replayJson = async (source: string, environment: Record<string, string | undefined> = env) => {
    const result = await runCli(['replay', source, '--rules', rules, '--json'], environment)
    expect(result.code, result.stderr).toBe(0)
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line))
    return { messages: lines.slice(0, -1), summary: lines.at(-1) }
  }

  it('prints one JSON line per message, in order, then the summary', async () => {
    const { messages, summary } = await replayJson(EVENTS_DIR)
    expect(messages).toHaveLength(35)
    expect(messages.map((line) => line.message)).toEqual([...messages.map((line) => line.message)].sort())
    const exe = messages.find(
      (line) => line.messageId === expectedOutcomes['executable-attachment']?.messageId,
    )
    expect(exe).toMatchObject({
      kind: 'message',
      disposition: 'STOP_RULE_SET',
      bounce: true,
      recipients: [
        {
          recipient: 'alice@example.com',
          decision: 'bounce',
          rule: 'no-executables',
          guard: null,
          evidence: [{ kind: 'attachment', filename: 'Rechnung März.exe', filenameGlob: '*.exe' }],
        },
      ],
    })
    expect(summary).toMatchObject({ kind: 'summary', messages: 35, bounceMessages: 15, unreadable: [] })
    expect(summary.guards).toEqual({
      autoSubmitted: 2,
      forgedSender: 3,
      nullSender: 2,
      spam: 1,
      unverifiedSender: 2,
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
    const fromS3 = await replayJson('s3://mail-archive/inbound/', process.env)
    vi.unstubAllEnvs()
    const fromFolder = await replayJson(EVENTS_DIR)
    const { source: _s3, ...s3Summary } = fromS3.summary
    const { source: _folder, ...folderSummary } = fromFolder.summary
    expect(s3Summary).toEqual(folderSummary)
    const decisions = (lines: { messageId: string; recipients: unknown }[]) =>
      lines.map(({ messageId, recipients }) => [messageId, recipients])
    expect(decisions(fromS3.messages)).toEqual(decisions(fromFolder.messages))
  })

  it('writes one CSV row per recipient with --csv, quoted, formulas defused', async () => {
    const directory = await scratch({})
    const csv = join(directory, 'replay.csv')
    const result = await runCli(['replay', EVENTS_DIR, '--rules', rules, '--csv', csv], env)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain(`one row per recipient written to ${csv}`)
    const rows = (await readFile(csv, 'utf8')).trimEnd().split('\r\n')
    expect(rows[0]).toBe(
      'message,messageId,sender,recipient,decision,rule,status,guard,returns,evidence,error',
    )
    expect(rows).toHaveLength(1 + 36)
    expect(rows).toContainEqual(
      `${join(EVENTS_DIR, `${expectedOutcomes['blocked-sender']?.messageId}.eml`)},${expectedOutcomes['blocked-sender']?.messageId},offers@spam.example,alice@example.com,drop,blocked-senders,,,STOP_RULE_SET,"envelope sender offers@spam.example is in blocked-senders.txt line 2: ""*@spam.example""",`,
    )
    const formula = await scratch({
      'formula.eml': 'Return-Path: <=1+2@evil.example>\r\nTo: alice@example.com\r\n\r\nhi\r\n',
    })
    await runCli(['replay', formula, '--rules', rules, '--csv', csv], env)
    expect((await readFile(csv, 'utf8')).split('\r\n')[1]).toBe(
      `${join(formula, 'formula.eml')},formula,'=1+2@evil.example,alice@example.com,accept,,,,CONTINUE,,`,
    )
    const unwritable = await runCli(
      ['replay', EVENTS_DIR, '--rules', rules, '--csv', '/nonexistent/x.csv'],
      env,
    )
    expect(unwritable.code).toBe(1)
    expect(unwritable.stderr).toMatch(/^ses-bouncer replay: cannot write \/nonexistent\/x\.csv: /)
  })

  it('prints a readable table without --json', async () => {
    const result = await runCli(['replay', EVENTS_DIR, '--rules', rules], env)
    expect(result.stdout).toContain('replayed 35 messages (36 recipients)')
    expect(result.stdout).toMatch(/no-executables\s+bounce\s+1\s+1/)
    expect(result.stdout).toContain('the function would have sent 15 SendBounce request(s)')
  })

  it('names an unreadable folder in one line', async () => {
    expect(await runCli(['replay', '/nonexistent', '--rules', rules], env)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'ses-bouncer replay: cannot read /nonexistent: no such file\n',
    })
  })
})

describe('ses-bouncer event', () => {
  it('prints a fresh SES receipt event for a message, with its facts, that the handler accepts', async () => {
    const before = Date.now()
    const result = await runCli(['event', eml('partly-unknown')], env)
    expect(result.code, result.stderr).toBe(0)
    const event = JSON.parse(result.stdout)
    const parsed = SesReceiptEventSchema.parse(event)
    const [record] = parsed.Records
    const sample = JSON.parse(await readFile(join(EVENTS_DIR, 'partly-unknown.json'), 'utf8')).Records[0].ses
    // The schema checks only what the handler reads; mail.timestamp is not among it.
    expect(Date.parse(event.Records[0].ses.mail.timestamp)).toBeGreaterThanOrEqual(before - 1)
    expect(record?.ses.mail).toMatchObject({
      messageId: expectedOutcomes['partly-unknown']?.messageId,
      source: sample.mail.source,
      headersTruncated: false,
      headers: sample.mail.headers,
    })
    expect(record?.ses.receipt).toMatchObject({
      recipients: ['alice@example.com', 'ghost@example.com'],
      spamVerdict: 'PASS',
      dkimVerdict: sample.receipt.dkimVerdict.status,
      action: { type: 'Lambda', invocationType: 'RequestResponse' },
    })
    expect(event.sesBouncerLocal).toEqual({ messageFile: eml('partly-unknown') })
  })

  it('takes facts and the invocation type from the command line', async () => {
    const result = await runCli(
      [
        'event',
        eml('accepted'),
        '--recipient',
        'bob@example.com',
        '--sender',
        'x@y.example',
        '--verdict',
        'dmarc=FAIL',
        '--dmarc-policy',
        'reject',
        '--invocation',
        'Event',
        '--message-id',
        'my-own-id',
      ],
      env,
    )
    const { receipt, mail } = JSON.parse(result.stdout).Records[0].ses
    expect(mail).toMatchObject({ source: 'x@y.example', messageId: 'my-own-id' })
    expect(receipt).toMatchObject({
      recipients: ['bob@example.com'],
      dmarcVerdict: { status: 'FAIL' },
      dmarcPolicy: 'reject',
      action: { invocationType: 'Event' },
    })
  })

  it('keeps at most 10 KB of headers and says they were truncated, as SES does', async () => {
    const result = await runCli(['event', eml('headers-truncated')], env)
    const { mail } = JSON.parse(result.stdout).Records[0].ses
    const sample = JSON.parse(await readFile(join(EVENTS_DIR, 'headers-truncated.json'), 'utf8')).Records[0]
      .ses
    expect(mail.headersTruncated).toBe(true)
    expect(mail.headers).toEqual(sample.mail.headers)
  })

  it('refuses a file name that is no SES message id and a message with no recipient; warns of no sender', async () => {
    const directory = await scratch({
      'my mail.eml': 'Return-Path: <a@b.example>\r\nTo: c@d.example\r\n\r\nhi\r\n',
      'none.eml': 'From: a@b.example\r\n\r\nhi\r\n',
      'nosender.eml': 'To: c@d.example\r\n\r\nhi\r\n',
    })
    const badName = await runCli(['event', join(directory, 'my mail.eml')], env)
    expect(badName.code).toBe(2)
    expect(badName.stderr).toContain('"my mail" (from the file name) is not an SES message id')
    expect((await runCli(['event', join(directory, 'my mail.eml'), '--message-id', 'mine'], env)).code).toBe(
      0,
    )
    const none = await runCli(['event', join(directory, 'none.eml')], env)
    expect(none.code).toBe(1)
    expect(none.stderr).toContain('no recipient found')
    const noSender = await runCli(['event', join(directory, 'nosender.eml')], env)
    expect(noSender.code).toBe(0)
    expect(noSender.stderr).toContain('has no Return-Path: the envelope sender is empty')
  })

  it('--store puts the message where the function reads it, as the S3 action would', async () => {
    const s3 = await startS3Server({ buckets: ['mail'] })
    try {
      // The AWS SDK reads its endpoint from the process environment, as it would for an operator.
      for (const [name, value] of Object.entries(s3.env)) vi.stubEnv(name, value)
      const result = await runCli(['event', eml('accepted'), '--store', 's3://mail/inbound/'], process.env)
      vi.unstubAllEnvs()
      expect(result.code, result.stderr).toBe(0)
      const messageId = expectedOutcomes.accepted?.messageId
      expect(result.stderr).toBe(
        `stored as s3://mail/inbound/${messageId}; run the event with -e MAIL_DIR= -e MAIL_BUCKET=mail -e MAIL_PREFIX=inbound/\n`,
      )
      expect(JSON.parse(result.stdout)).not.toHaveProperty('sesBouncerLocal')
      const { GetObjectCommand } = await import('@aws-sdk/client-s3')
      const object = await s3.client.send(
        new GetObjectCommand({ Bucket: 'mail', Key: `inbound/${messageId}` }),
      )
      expect(Buffer.from(await (object.Body?.transformToByteArray() ?? new Uint8Array()))).toEqual(
        messageBytes(messageId ?? ''),
      )
    } finally {
      await s3.close()
    }
  })
})

describe('usage', () => {
  it('every command has --help (exit 0); a bare ses-bouncer prints the usage and exits 2', async () => {
    for (const command of ['check', 'replay', 'validate', 'event']) {
      const help = await runCli([command, '--help'], env)
      expect(help.code).toBe(0)
      expect(help.stdout).toMatch(new RegExp(`^usage: ses-bouncer ${command} `))
    }
    const bare = await runCli([], env)
    expect(bare.code).toBe(2)
    expect(bare.stdout).toBe('')
    expect(bare.stderr).toMatch(/^Usage: ses-bouncer <command>/)
    expect((await runCli(['--help'], env)).code).toBe(0)
    expect((await runCli(['frobnicate'], env)).code).toBe(2)
  })
})

describe('ses-bouncer hash-address', () => {
  const key = 'cli-test-key-0123456789abcdef0123456'

  it('prints the token the logs hold for each address, one mailbox one token', async () => {
    const result = await runCli(['hash-address', 'Alice+news@Example.com', 'bob@example.org'], {
      LOG_ADDRESS_KEY: key,
    })
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      `${addressToken('alice@example.com', key)}  Alice+news@Example.com\n${addressToken('bob@example.org', key)}  bob@example.org\n`,
    )
  })

  it('needs the key and an address', async () => {
    const noKey = await runCli(['hash-address', 'alice@example.com'], {})
    expect(noKey.code).toBe(1)
    expect(noKey.stderr).toContain('LOG_ADDRESS_KEY: required with LOG_ADDRESSES=hash')
    expect((await runCli(['hash-address'], { LOG_ADDRESS_KEY: key })).code).toBe(2)
  })
})

describe('the bin', () => {
  it('runs as `npx ses-bouncer` would, exit status included, with no stack trace for bad input', async () => {
    const run = promisify(execFile)
    const processEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }
    const { stdout } = await run(process.execPath, ['bin/ses-bouncer.mjs', 'validate', rules], {
      cwd: root,
      env: processEnv,
    })
    expect(stdout).toContain('is valid')
    await expect(
      run(process.execPath, ['bin/ses-bouncer.mjs', 'check'], { cwd: root, env: processEnv }),
    ).rejects.toMatchObject({ code: 2 })
    await expect(
      run(process.execPath, ['bin/ses-bouncer.mjs', 'check', 'missing.eml', '--rules', rules], {
        cwd: root,
        env: processEnv,
      }),
    ).rejects.toMatchObject({ code: 1, stderr: 'ses-bouncer check: cannot read missing.eml: no such file\n' })
  })
})
