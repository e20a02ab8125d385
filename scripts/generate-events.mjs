// Generates events/<case>.json + <messageId>.eml and test/fixtures/events-expected.json.
// Deterministic: all "random" bytes come from an AES-CTR keystream seeded by the case name.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const OUT = path.join(ROOT, 'events')
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:ses-bouncer-dev-bounce'
const CRLF = '\r\n'

// ---------- helpers ----------
function rand(seed, n) {
  const key = crypto.createHash('sha256').update(`key:${seed}`).digest()
  const iv = crypto.createHash('md5').update(`iv:${seed}`).digest()
  const c = crypto.createCipheriv('aes-256-ctr', key, iv)
  return Buffer.concat([c.update(Buffer.alloc(n)), c.final()])
}
const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789'
function sesMessageId(prefix, seed) {
  const bytes = rand(`msgid:${seed}`, 40)
  let s = prefix
  for (let i = 0; s.length < 40; i++) s += ALNUM[bytes[i] % 36]
  return s
}
function b64(buf) {
  return buf.toString('base64')
}
function b64wrap(buf) {
  return b64(buf)
    .match(/.{1,76}/g)
    .join(CRLF)
}
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const p2 = (n) => String(n).padStart(2, '0')
// RFC 5322 date in a given zone (minutes east of UTC), `pad` = two-digit day
function rfcDate(ms, tzMin = 0, pad = false) {
  const d = new Date(ms + tzMin * 60000)
  const sign = tzMin < 0 ? '-' : '+'
  const a = Math.abs(tzMin)
  const day = pad ? p2(d.getUTCDate()) : String(d.getUTCDate())
  return `${DAYS[d.getUTCDay()]}, ${day} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(
    d.getUTCMinutes(),
  )}:${p2(d.getUTCSeconds())} ${sign}${p2(Math.floor(a / 60))}${p2(a % 60)}`
}
const domainOf = (addr) => addr.slice(addr.lastIndexOf('@') + 1)
// "Name" <a@b>, c@d  -> ['"Name" <a@b>', 'c@d'] (our test headers never have commas inside names)
const splitAddrs = (v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
const bareAddr = (s) => (s.match(/<([^>]*)>/)?.[1] ?? s).trim()
const lf2crlf = (s) => s.replace(/\r?\n/g, CRLF)
const unfold = (raw) => raw.replace(/\r\n(?=[ \t])/g, '').trim()

// ---------- SES-prepended headers ----------
const VERDICT_WORD = { PASS: 'pass', FAIL: 'fail', GRAY: 'none', PROCESSING_FAILED: 'temperror' }
function sesHeaders(c) {
  const { id, tsMs, source, recipients, client, v } = c
  const rcvDate = `${rfcDate(tsMs, 0, true)} (UTC)`
  const received =
    `from ${client.helo} (${client.rdns} [${client.ip}])${CRLF} by inbound-smtp.us-east-1.amazonaws.com with SMTP id ${id}` +
    (recipients.length === 1 ? `${CRLF} for ${recipients[0]};` : ';') +
    `${CRLF} ${rcvDate}`
  // SPF: with a null reverse-path the HELO identity is checked (RFC 7208 §2.4, postmaster@helo)
  const spfIdentity = source || `postmaster@${client.helo}`
  const spfDomain = c.spfDomain ?? domainOf(spfIdentity)
  const spfWord = v.spf === 'PROCESSING_FAILED' ? 'permerror' : VERDICT_WORD[v.spf]
  const spfWhy =
    v.spf === 'PROCESSING_FAILED'
      ? '(spfCheck: Error in processing SPF Record)'
      : v.spf === 'PASS'
        ? `(spfCheck: domain of ${spfDomain} designates ${client.ip} as permitted sender)`
        : v.spf === 'FAIL'
          ? `(spfCheck: domain of ${spfDomain} does not designate ${client.ip} as permitted sender)`
          : `(spfCheck: ${client.ip} is neither permitted nor denied by domain of ${spfDomain})`
  const receivedSpf = `${spfWord} ${spfWhy} client-ip=${client.ip}; envelope-from=${spfIdentity}; helo=${client.helo};`
  const spfProp = source ? `smtp.mailfrom=${source}` : `smtp.helo=${client.helo}`
  const dkim = v.dkim === 'GRAY' ? 'dkim=none' : `dkim=${VERDICT_WORD[v.dkim]} header.i=@${c.dkimDomain}`
  const dmarc = `dmarc=${VERDICT_WORD[v.dmarc]} header.from=${c.fromDomain}`
  const authRes = `amazonses.com;${CRLF} spf=${spfWord} ${spfWhy} ${spfProp};${CRLF} ${dkim};${CRLF} ${dmarc};`
  const receipt = `AEFBQUFBQUFBQUFF${b64(rand(`receipt:${id}`, 240))}`
  const sesDkim =
    `a=rsa-sha256; q=dns/txt;${CRLF} b=${b64(rand(`sesdkim-b:${id}`, 256))};${CRLF} c=relaxed/simple;` +
    ` s=224i4yxa5dv7c2xz3womw6peuasteono; d=amazonses.com; t=${Math.floor(tsMs / 1000)}; v=1;${CRLF}` +
    ` bh=${b64(rand(`sesdkim-bh:${id}`, 32))};${CRLF}` +
    ' h=From:To:Cc:Bcc:Subject:Date:Message-ID:MIME-Version:Content-Type:X-SES-RECEIPT;'
  // With spam and virus scanning off (ScanEnabled false) SES adds no verdict headers.
  const scan =
    c.scanHeaders === false
      ? []
      : [
          ['X-SES-Spam-Verdict', v.spam],
          ['X-SES-Virus-Verdict', v.virus],
        ]
  return [
    ['Return-Path', source ? `<${source}>` : '<>'],
    ['Received', received],
    ...scan,
    ['Received-SPF', receivedSpf],
    ['Authentication-Results', authRes],
    ['X-SES-RECEIPT', receipt],
    ['X-SES-DKIM-SIGNATURE', sesDkim],
  ]
}
function dkimSig(domain, selector, seed, tsMs, h) {
  return (
    `v=1; a=rsa-sha256; c=relaxed/relaxed; d=${domain}; s=${selector};${CRLF} t=${Math.floor(tsMs / 1000) - 3};` +
    ` h=${h};${CRLF} bh=${b64(rand(`bh:${seed}`, 32))};${CRLF} b=${b64wrap(rand(`b:${seed}`, 256)).replace(
      /\r\n/g,
      `${CRLF} `,
    )}`
  )
}

// ---------- the cases ----------
const ALLPASS = { spam: 'PASS', virus: 'PASS', spf: 'PASS', dkim: 'PASS', dmarc: 'PASS' }
const acc = (rule = null) => ({ action: 'accept', rule, guard: null, status: null })
const bnc = (rule, status) => ({ action: 'bounce', rule, guard: null, status })
// status: for a guarded drop, the bounce status the guard held back
const drp = (rule, guard = null, status = null) => ({ action: 'drop', rule, guard, status })

const cases = []
const add = (c) => cases.push(c)

// 1 accepted
add({
  name: 'accepted',
  prefix: 'accepted',
  ts: '2026-11-02T08:15:42.118Z',
  shows: 'Ordinary mail from a normal sender to an existing mailbox.',
  outcome: 'alice@example.com: accept (no rule matches) → CONTINUE',
  source: 'martin.keller@acme-logistics.example',
  recipients: ['alice@example.com'],
  client: { helo: 'mail.acme-logistics.example', rdns: 'mail.acme-logistics.example', ip: '198.51.100.17' },
  v: ALLPASS,
  dkimDomain: 'acme-logistics.example',
  fromDomain: 'acme-logistics.example',
  expect: { 'alice@example.com': acc() },
  build: (c) => {
    const boundary = '000000000000b7e1c20f6a4d93e5'
    return {
      headers: [
        [
          'DKIM-Signature',
          dkimSig(
            'acme-logistics.example',
            'sel2026',
            c.name,
            c.tsMs,
            'from:to:subject:date:message-id:mime-version:content-type',
          ),
        ],
        ['From', 'Martin Keller <martin.keller@acme-logistics.example>'],
        ['To', 'Alice Example <alice@example.com>'],
        ['Subject', 'Delivery schedule for week 46'],
        ['Date', rfcDate(c.tsMs - 4000, 60)],
        ['Message-ID', '<CAK3x9Vb2rT8qLmN7zP4wYd1@mail.acme-logistics.example>'],
        ['MIME-Version', '1.0'],
        ['Content-Type', `multipart/alternative; boundary="${boundary}"`],
      ],
      body: `--${boundary}
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: 7bit

Hi Alice,

the pallets for your order 55-1042 leave our Rotterdam depot on
Tuesday and should reach you Thursday morning. Please let me know
if the loading dock is not available that day.

Best regards,
Martin Keller
ACME Logistics

--${boundary}
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: 7bit

<div dir="ltr"><p>Hi Alice,</p><p>the pallets for your order 55-1042 leave our Rotterdam depot on
Tuesday and should reach you Thursday morning. Please let me know if the loading dock is not
available that day.</p><p>Best regards,<br>Martin Keller<br>ACME Logistics</p></div>

--${boundary}--
`,
    }
  },
})

// 2 unknown-recipient
add({
  name: 'unknown-recipient',
  prefix: 'unknownrcpt',
  ts: '2026-11-02T09:03:11.604Z',
  shows: 'Mail to a mailbox that does not exist.',
  outcome: 'nobody@example.com: bounce, rule unknown-recipient, 5.1.1 → STOP_RULE_SET',
  source: 'jordan.lee@northwind.example',
  recipients: ['nobody@example.com'],
  client: { helo: 'smtp-out-7.northwind.example', rdns: 'smtp-out-7.northwind.example', ip: '203.0.113.71' },
  v: ALLPASS,
  dkimDomain: 'northwind.example',
  fromDomain: 'northwind.example',
  expect: { 'nobody@example.com': bnc('unknown-recipient', '5.1.1') },
  build: (c) => ({
    headers: [
      ['From', 'Jordan Lee <jordan.lee@northwind.example>'],
      ['To', 'nobody@example.com'],
      ['Subject', 'Question about your API pricing'],
      ['Date', rfcDate(c.tsMs - 2000, -300)],
      ['Message-ID', '<20261102040309.4471.jordan.lee@northwind.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=us-ascii; format=flowed'],
      ['Content-Transfer-Encoding', '7bit'],
    ],
    body: `Hello,

we are evaluating your API for about 40,000 calls a month. Is the
volume discount on your pricing page still current, and does it
apply to annual contracts?

Thanks,
Jordan Lee
Northwind Traders
`,
  }),
})

// 3 partly-unknown
add({
  name: 'partly-unknown',
  prefix: 'partly',
  ts: '2026-11-03T13:47:25.031Z',
  shows:
    'Three envelope recipients, one valid; Phantom@Example.com came by Bcc, so mail.destination (To/Cc) differs from receipt.recipients; mixed-case address.',
  outcome:
    'alice@example.com: accept; ghost@example.com and Phantom@Example.com: bounce, rule unknown-recipient, 5.1.1 (one SendBounce with two recipients) → CONTINUE',
  source: 'priya@contoso.example',
  recipients: ['alice@example.com', 'ghost@example.com', 'Phantom@Example.com'],
  client: { helo: 'mx-out.contoso.example', rdns: 'mx-out.contoso.example', ip: '198.51.100.142' },
  v: ALLPASS,
  dkimDomain: 'contoso.example',
  fromDomain: 'contoso.example',
  expect: {
    'alice@example.com': acc(),
    'ghost@example.com': bnc('unknown-recipient', '5.1.1'),
    'Phantom@Example.com': bnc('unknown-recipient', '5.1.1'),
  },
  build: (c) => {
    const boundary = '----=_Part_88213_1290457716.1793800041000'
    return {
      headers: [
        ['From', 'Priya Raman <priya@contoso.example>'],
        ['To', 'alice@example.com'],
        ['Cc', 'Greg Host <ghost@example.com>'],
        ['Subject', 'Minutes of the 12 November planning call'],
        ['Date', rfcDate(c.tsMs - 3000, 330)],
        ['Message-ID', '<1290457716.88213.1793800041@mx-out.contoso.example>'],
        ['MIME-Version', '1.0'],
        ['Content-Type', `multipart/alternative;${CRLF} boundary="${boundary}"`],
      ],
      body: `--${boundary}
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

Hi Alice, hi Greg,

minutes of today's call:
- migration window moves to 28 November
- Greg to confirm the DNS cut-over owner
- next call in two weeks

Priya

--${boundary}
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 7bit

<p>Hi Alice, hi Greg,</p><p>minutes of today's call:</p><ul><li>migration window moves to
28 November</li><li>Greg to confirm the DNS cut-over owner</li><li>next call in two weeks</li></ul>
<p>Priya</p>

--${boundary}--
`,
    }
  },
})

// 4 blocked-sender
add({
  name: 'blocked-sender',
  prefix: 'blocked',
  ts: '2026-11-04T02:12:09.877Z',
  shows:
    'Envelope sender on the blocked-senders list (*@spam.example); all verdicts pass, so only the rule catches it.',
  outcome: 'alice@example.com: drop, rule blocked-senders → STOP_RULE_SET',
  source: 'offers@spam.example',
  recipients: ['alice@example.com'],
  client: { helo: 'out3.spam.example', rdns: 'out3.spam.example', ip: '192.0.2.203' },
  v: ALLPASS,
  dkimDomain: 'spam.example',
  fromDomain: 'spam.example',
  expect: { 'alice@example.com': drp('blocked-senders') },
  build: (c) => {
    const boundary = 'b1_5f0c9d2e8a7b4c61'
    return {
      headers: [
        ['From', 'Mega Deals <offers@spam.example>'],
        ['To', 'alice@example.com'],
        ['Subject', 'Alice, your exclusive 90% discount expires tonight'],
        ['Date', rfcDate(c.tsMs - 1000, 0)],
        ['Message-ID', '<5f0c9d2e8a7b4c61.offer@spam.example>'],
        ['MIME-Version', '1.0'],
        ['Content-Type', `multipart/alternative; boundary="${boundary}"`],
      ],
      body: `--${boundary}
Content-Type: text/plain; charset=us-ascii

Only today: 90% off everything. Click now before it is gone!
https://spam.example/deal?u=alice

--${boundary}
Content-Type: text/html; charset=us-ascii

<html><body><h1>90% OFF EVERYTHING</h1><p><a href="https://spam.example/deal?u=alice">Click now</a>
before it is gone!</p></body></html>

--${boundary}--
`,
    }
  },
})

// 5 dmarc-reject
add({
  name: 'dmarc-reject',
  prefix: 'dmarcreject',
  ts: '2026-11-05T06:40:55.342Z',
  shows:
    'From header impersonates PayPal (service@paypal.example) while sent from a lookalike domain; SPF passes for the envelope domain, DMARC fails with p=reject.',
  outcome: 'alice@example.com: drop, rule dmarc-reject → STOP_RULE_SET',
  source: 'notify@paypa1-secure.example',
  recipients: ['alice@example.com'],
  client: { helo: 'mail.paypa1-secure.example', rdns: 'mail.paypa1-secure.example', ip: '192.0.2.88' },
  v: { spam: 'PASS', virus: 'PASS', spf: 'PASS', dkim: 'GRAY', dmarc: 'FAIL' },
  dmarcPolicy: 'reject',
  fromDomain: 'paypal.example',
  expect: { 'alice@example.com': drp('dmarc-reject') },
  build: (c) => {
    const boundary = '=_7d41c0a3b2e94f58a6'
    return {
      headers: [
        ['From', 'PayPal <service@paypal.example>'],
        ['To', 'alice@example.com'],
        ['Subject', 'Your account has been limited - action required'],
        ['Date', rfcDate(c.tsMs - 2000, 0)],
        ['Message-ID', '<7d41c0a3b2e94f58a6@paypa1-secure.example>'],
        ['MIME-Version', '1.0'],
        ['Content-Type', `multipart/alternative; boundary="${boundary}"`],
      ],
      body: `--${boundary}
Content-Type: text/plain; charset=us-ascii

Dear customer,

we noticed unusual activity and have limited your account. Confirm
your identity within 24 hours: https://paypa1-secure.example/verify

PayPal Security

--${boundary}
Content-Type: text/html; charset=us-ascii

<p>Dear customer,</p><p>we noticed unusual activity and have limited your account.
<a href="https://paypa1-secure.example/verify">Confirm your identity</a> within 24 hours.</p>
<p>PayPal Security</p>

--${boundary}--
`,
    }
  },
})

// 6 oversized
add({
  name: 'oversized',
  prefix: 'oversized',
  ts: '2026-11-06T10:21:37.910Z',
  shows: "A ~300 KB message (report.pdf, base64) — over the sample rules' 256K size limit.",
  outcome: 'bob@example.com: bounce, rule too-large, 5.3.4 → STOP_RULE_SET',
  source: 'reports@fabrikam.example',
  recipients: ['bob@example.com'],
  client: { helo: 'relay1.fabrikam.example', rdns: 'relay1.fabrikam.example', ip: '203.0.113.9' },
  v: ALLPASS,
  dkimDomain: 'fabrikam.example',
  fromDomain: 'fabrikam.example',
  expect: { 'bob@example.com': bnc('too-large', '5.3.4') },
  build: (c) => {
    const boundary = '_004_FAB7QX1PR04MB5512_'
    const pdf = Buffer.concat([
      Buffer.from(
        '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n',
        'latin1',
      ),
      rand(`pdf:${c.name}`, 222000),
      Buffer.from('\n%%EOF\n', 'latin1'),
    ])
    return {
      headers: [
        ['From', 'Finance Reporting <reports@fabrikam.example>'],
        ['To', 'Bob <bob@example.com>'],
        ['Subject', 'Q3 2026 report (PDF)'],
        ['Date', rfcDate(c.tsMs - 5000, 60)],
        ['Message-ID', '<FAB7QX1PR04MB5512A0C1D9E2@FAB7QX1PR04MB5512.fabrikam.example>'],
        ['MIME-Version', '1.0'],
        ['Content-Type', `multipart/mixed;${CRLF} boundary="${boundary}"`],
      ],
      body:
        `--${boundary}
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit

Hello Bob,

attached is the Q3 2026 report as discussed.

Regards,
Finance Reporting

--${boundary}
Content-Type: application/pdf; name="report.pdf"
Content-Description: report.pdf
Content-Disposition: attachment; filename="report.pdf"; size=${pdf.length}
Content-Transfer-Encoding: base64

` +
        b64wrap(pdf) +
        `

--${boundary}--
`,
    }
  },
})

// 7 executable-attachment
add({
  name: 'executable-attachment',
  prefix: 'exeattach',
  ts: '2026-11-10T07:58:03.215Z',
  shows:
    'An .exe attachment whose name is only given in RFC 2231 form (filename*=utf-8\'\'Rechnung%20M%C3%A4rz.exe → "Rechnung März.exe"), next to a harmless .txt.',
  outcome: 'alice@example.com: bounce, rule no-executables, 5.7.1 → STOP_RULE_SET',
  source: 'rechnung@muster-gmbh.example',
  recipients: ['alice@example.com'],
  client: { helo: 'mx01.muster-gmbh.example', rdns: 'mx01.muster-gmbh.example', ip: '198.51.100.66' },
  v: ALLPASS,
  dkimDomain: 'muster-gmbh.example',
  fromDomain: 'muster-gmbh.example',
  expect: { 'alice@example.com': bnc('no-executables', '5.7.1') },
  build: (c) => {
    const boundary = '------------9E2A41C7B0D35F68'
    const exe = Buffer.concat([
      Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00', 'latin1'),
      rand(`exe:${c.name}`, 2032),
    ])
    const txt = Buffer.from('Zahlungsziel: 14 Tage netto.\r\nBankverbindung: siehe Rechnung.\r\n', 'latin1')
    return {
      headers: [
        ['From', 'Buchhaltung Muster GmbH <rechnung@muster-gmbh.example>'],
        ['To', 'alice@example.com'],
        ['Subject', 'Ihre Rechnung vom 10.11.2026'],
        ['Date', rfcDate(c.tsMs - 3000, 60)],
        ['Message-ID', '<9e2a41c7-b0d3-5f68-a1c2-3d4e5f607182@muster-gmbh.example>'],
        ['MIME-Version', '1.0'],
        ['Content-Type', `multipart/mixed; boundary="${boundary}"`],
      ],
      body:
        `This is a multi-part message in MIME format.
--${boundary}
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

Sehr geehrte Damen und Herren,

anbei erhalten Sie die Rechnung f=C3=BCr M=C3=A4rz. Bitte =C3=B6ffnen Sie d=
ie Datei, um den Betrag zu sehen.

Mit freundlichen Gr=C3=BC=C3=9Fen
Buchhaltung

--${boundary}
Content-Type: text/plain; charset=UTF-8; name="Hinweise.txt"
Content-Disposition: attachment; filename="Hinweise.txt"
Content-Transfer-Encoding: base64

` +
        b64wrap(txt) +
        `

--${boundary}
Content-Type: application/octet-stream;
 name*=utf-8''Rechnung%20M%C3%A4rz.exe
Content-Disposition: attachment;
 filename*=utf-8''Rechnung%20M%C3%A4rz.exe
Content-Transfer-Encoding: base64

` +
        b64wrap(exe) +
        `

--${boundary}--
`,
    }
  },
})

// 8 header-rule
add({
  name: 'header-rule',
  prefix: 'hdrrule',
  ts: '2026-11-11T15:00:48.466Z',
  shows: 'A newsletter (List-Unsubscribe header, visible in the event) sent to billing@example.com.',
  outcome: 'billing@example.com: bounce, rule billing-no-bulk, 5.7.1 → STOP_RULE_SET',
  source: 'news@mail.cloudweekly.example',
  recipients: ['billing@example.com'],
  client: { helo: 'o12.mail.cloudweekly.example', rdns: 'o12.mail.cloudweekly.example', ip: '203.0.113.112' },
  v: ALLPASS,
  dkimDomain: 'cloudweekly.example',
  fromDomain: 'cloudweekly.example',
  expect: { 'billing@example.com': bnc('billing-no-bulk', '5.7.1') },
  build: (c) => {
    const boundary = 'cw212-4f2a9b1e0c7d'
    return {
      headers: [
        [
          'DKIM-Signature',
          dkimSig(
            'cloudweekly.example',
            'cw1',
            c.name,
            c.tsMs,
            'from:to:subject:date:message-id:list-unsubscribe:list-unsubscribe-post:mime-version:content-type',
          ),
        ],
        ['From', 'Cloud Weekly <newsletter@cloudweekly.example>'],
        ['To', 'billing@example.com'],
        ['Subject', 'Cloud Weekly #212: cost alerts that actually work'],
        ['Date', rfcDate(c.tsMs - 6000, 0)],
        ['Message-ID', '<cw212.4f2a9b1e0c7d@mail.cloudweekly.example>'],
        [
          'List-Unsubscribe',
          `<https://cloudweekly.example/u/4f2a9b1e0c7d>,${CRLF} <mailto:unsubscribe@cloudweekly.example?subject=unsubscribe-4f2a9b1e0c7d>`,
        ],
        ['List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'],
        ['MIME-Version', '1.0'],
        ['Content-Type', `multipart/alternative; boundary="${boundary}"`],
      ],
      body: `--${boundary}
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

CLOUD WEEKLY #212

* Cost alerts that actually work
* Three ways to shrink your log bill
* Event: FinOps meetup, 3 December

Unsubscribe: https://cloudweekly.example/u/4f2a9b1e0c7d

--${boundary}
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 7bit

<html><body><h1>Cloud Weekly #212</h1><ul><li>Cost alerts that actually work</li>
<li>Three ways to shrink your log bill</li><li>Event: FinOps meetup, 3 December</li></ul>
<p><a href="https://cloudweekly.example/u/4f2a9b1e0c7d">Unsubscribe</a></p></body></html>

--${boundary}--
`,
    }
  },
})

// 9 null-sender
add({
  name: 'null-sender',
  prefix: 'nullsender',
  ts: '2026-11-12T11:34:20.089Z',
  shows:
    'Null reverse-path: mail.source is "" and Return-Path is <>; a plain notification to an unknown mailbox.',
  outcome:
    'nobody@example.com: rule unknown-recipient would bounce, guard nullSender turns it into drop → STOP_RULE_SET',
  source: '',
  recipients: ['nobody@example.com'],
  client: { helo: 'mx1.cloudhost.example', rdns: 'mx1.cloudhost.example', ip: '203.0.113.45' },
  v: ALLPASS,
  dkimDomain: 'cloudhost.example',
  fromDomain: 'console.cloudhost.example',
  expect: { 'nobody@example.com': drp('unknown-recipient', 'nullSender', '5.1.1') },
  build: (c) => ({
    headers: [
      ['From', 'CloudHost Console <no-reply@console.cloudhost.example>'],
      ['To', 'nobody@example.com'],
      ['Subject', 'Security alert: new sign-in to your account'],
      ['Date', rfcDate(c.tsMs - 1000, 0)],
      ['Message-ID', '<signin-alert.8c21f0d4@console.cloudhost.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=us-ascii'],
      ['Content-Transfer-Encoding', '7bit'],
    ],
    body: `A new sign-in to the CloudHost account registered to
nobody@example.com was detected:

  Time:     12 November 2026, 11:33 UTC
  Location: Frankfurt, DE
  Browser:  Firefox on Linux

If this was not you, reset your password now.

-- 
CloudHost Console (this address does not accept replies)
`,
  }),
})

// 10 auto-reply
add({
  name: 'auto-reply',
  prefix: 'autoreply',
  ts: '2026-11-13T16:22:51.730Z',
  shows: 'An out-of-office reply (Auto-Submitted: auto-replied) to an address that does not exist.',
  outcome:
    'nobody@example.com: rule unknown-recipient would bounce, guard autoSubmitted turns it into drop → STOP_RULE_SET',
  source: 'carol.nguyen@fabrikam.example',
  recipients: ['nobody@example.com'],
  client: { helo: 'relay2.fabrikam.example', rdns: 'relay2.fabrikam.example', ip: '203.0.113.10' },
  v: ALLPASS,
  dkimDomain: 'fabrikam.example',
  fromDomain: 'fabrikam.example',
  expect: { 'nobody@example.com': drp('unknown-recipient', 'autoSubmitted', '5.1.1') },
  build: (c) => {
    const boundary = '_000_OOF7D3E2A91C_'
    return {
      headers: [
        ['From', 'Carol Nguyen <carol.nguyen@fabrikam.example>'],
        ['To', 'nobody@example.com'],
        ['Subject', 'Automatic reply: Your ticket #48213'],
        ['Date', rfcDate(c.tsMs - 1000, -480)],
        ['Message-ID', '<OOF7D3E2A91C4B8E@relay2.fabrikam.example>'],
        ['In-Reply-To', '<ticket-48213.1793.notify@example.com>'],
        ['References', '<ticket-48213.1793.notify@example.com>'],
        ['Auto-Submitted', 'auto-replied'],
        ['X-Auto-Response-Suppress', 'All'],
        ['MIME-Version', '1.0'],
        ['Content-Type', `multipart/alternative; boundary="${boundary}"`],
      ],
      body: `--${boundary}
Content-Type: text/plain; charset="us-ascii"

I am out of the office until 24 November with limited access to
e-mail. For urgent matters please contact service@fabrikam.example.

Carol

--${boundary}
Content-Type: text/html; charset="us-ascii"

<p>I am out of the office until 24 November with limited access to e-mail.
For urgent matters please contact service@fabrikam.example.</p><p>Carol</p>

--${boundary}--
`,
    }
  },
})

// 11 dsn
add({
  name: 'dsn',
  prefix: 'dsn',
  ts: '2026-11-14T03:09:14.552Z',
  shows:
    'A delivery status notification (multipart/report; report-type=delivery-status, three parts, no Auto-Submitted header) from MAILER-DAEMON, but with a non-empty envelope sender bounces@mta.example — backscatter for a message forged as ghost@example.com.',
  outcome:
    'ghost@example.com: rule unknown-recipient would bounce, guard autoSubmitted (multipart/report) turns it into drop → STOP_RULE_SET',
  source: 'bounces@mta.example',
  recipients: ['ghost@example.com'],
  client: { helo: 'mta.example', rdns: 'mta.example', ip: '198.51.100.25' },
  v: ALLPASS,
  dkimDomain: 'mta.example',
  fromDomain: 'mta.example',
  expect: { 'ghost@example.com': drp('unknown-recipient', 'autoSubmitted', '5.1.1') },
  build: (c) => {
    const boundary = '3F1A26C0B4.1794366552/mta.example'
    const arrival = rfcDate(c.tsMs - 62000, 0)
    return {
      headers: [
        ['From', 'Mail Delivery System <MAILER-DAEMON@mta.example>'],
        ['To', 'ghost@example.com'],
        ['Subject', 'Undelivered Mail Returned to Sender'],
        ['Date', rfcDate(c.tsMs - 1000, 0)],
        ['Message-ID', '<20261114030913.3F1A26C0B4@mta.example>'],
        ['MIME-Version', '1.0'],
        ['Content-Type', `multipart/report; report-type=delivery-status;${CRLF} boundary="${boundary}"`],
        ['Content-Transfer-Encoding', '7bit'],
      ],
      body: `This is a MIME-encapsulated message.

--${boundary}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mta.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<kim@customer.example>: host mx.customer.example[192.0.2.50] said: 550 5.1.1
    <kim@customer.example>: Recipient address rejected: User unknown (in reply
    to RCPT TO command)

--${boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mta.example
X-Postfix-Queue-ID: 3F1A26C0B4
X-Postfix-Sender: rfc822; ghost@example.com
Arrival-Date: ${arrival}

Final-Recipient: rfc822; kim@customer.example
Original-Recipient: rfc822;kim@customer.example
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.customer.example
Diagnostic-Code: smtp; 550 5.1.1 <kim@customer.example>: Recipient address
    rejected: User unknown

--${boundary}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <ghost@example.com>
Received: from unknown (unknown [192.0.2.199])
	by mta.example (Postfix) with ESMTP id 3F1A26C0B4
	for <kim@customer.example>; ${arrival}
From: ghost@example.com
To: kim@customer.example
Subject: Re: your invoice
Date: ${arrival}
Message-ID: <a81c0fe2.5531@example.com>

--${boundary}--
`,
    }
  },
})

// 12 spam-verdict
add({
  name: 'spam-verdict',
  prefix: 'spam',
  ts: '2026-11-16T22:45:06.198Z',
  shows: 'SES spam scan FAIL (spamVerdict FAIL, X-SES-Spam-Verdict: FAIL); SPF passes.',
  outcome:
    'nobody@example.com: rule unknown-recipient would bounce, guard spam turns it into drop → STOP_RULE_SET',
  source: 'winner@prize-center.example',
  recipients: ['nobody@example.com'],
  client: { helo: 'mta7.prize-center.example', rdns: 'mta7.prize-center.example', ip: '192.0.2.147' },
  v: { spam: 'FAIL', virus: 'PASS', spf: 'PASS', dkim: 'GRAY', dmarc: 'GRAY' },
  fromDomain: 'prize-center.example',
  expect: { 'nobody@example.com': drp('unknown-recipient', 'spam', '5.1.1') },
  build: (c) => ({
    headers: [
      ['From', 'Prize Center <winner@prize-center.example>'],
      ['To', 'nobody@example.com'],
      ['Subject', 'CONGRATULATIONS!!! You have WON $1,000,000'],
      ['Date', rfcDate(c.tsMs - 1000, 0)],
      ['Message-ID', '<win.77120394@prize-center.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/html; charset=us-ascii'],
    ],
    body: `<html><body><h1>YOU ARE OUR LUCKY WINNER!!!</h1>
<p>Claim your $1,000,000 prize now - send your bank details and a
small processing fee to <a href="https://prize-center.example/claim">our claims office</a>.</p>
</body></html>
`,
  }),
})

// 13 virus-verdict
add({
  name: 'virus-verdict',
  prefix: 'virus',
  ts: '2026-11-17T05:18:33.641Z',
  shows: 'SES virus scan FAIL (virusVerdict FAIL) on a message with a small .zip attachment.',
  outcome:
    'nobody@example.com: rule unknown-recipient would bounce, guard virus turns it into drop → STOP_RULE_SET',
  source: 'tracking@shipping-notice.example',
  recipients: ['nobody@example.com'],
  client: { helo: 'smtp.shipping-notice.example', rdns: 'smtp.shipping-notice.example', ip: '192.0.2.61' },
  v: { spam: 'PASS', virus: 'FAIL', spf: 'PASS', dkim: 'GRAY', dmarc: 'GRAY' },
  fromDomain: 'shipping-notice.example',
  expect: { 'nobody@example.com': drp('unknown-recipient', 'virus', '5.1.1') },
  build: (c) => {
    const boundary = '----=_NextPart_000_0012_01DB3A7C.5E2F1B40'
    const zip = Buffer.concat([
      Buffer.from('PK\x03\x04\x14\x00\x00\x00\x08\x00', 'latin1'),
      rand(`zip:${c.name}`, 1490),
    ])
    return {
      headers: [
        ['From', 'Parcel Service <tracking@shipping-notice.example>'],
        ['To', 'nobody@example.com'],
        ['Subject', 'Shipment 4820-1193: delivery attempt failed'],
        ['Date', rfcDate(c.tsMs - 2000, 0)],
        ['Message-ID', '<000c01db3a7c$5e2f1b40$1a2b3c4d@shipping-notice.example>'],
        ['MIME-Version', '1.0'],
        ['Content-Type', `multipart/mixed;${CRLF} boundary="${boundary}"`],
      ],
      body:
        `This is a multi-part message in MIME format.

--${boundary}
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit

We could not deliver your parcel. Open the attached shipping label
and print it to collect the parcel at your nearest depot.

--${boundary}
Content-Type: application/zip; name="Shipment_4820-1193.zip"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="Shipment_4820-1193.zip"

` +
        b64wrap(zip) +
        `

--${boundary}--
`,
    }
  },
})

// 14 forged-sender
add({
  name: 'forged-sender',
  prefix: 'forged',
  ts: '2026-11-18T19:02:27.305Z',
  shows:
    'Likely forged sender: spfVerdict FAIL and dmarcVerdict FAIL with dmarcPolicy "none" (so dmarc-reject does not match), to an unknown mailbox.',
  outcome:
    'nobody@example.com: rule unknown-recipient would bounce, guard forgedSender turns it into drop → STOP_RULE_SET',
  source: 'security@bank.example',
  recipients: ['nobody@example.com'],
  client: { helo: 'vps-2231.hosting.example', rdns: 'vps-2231.hosting.example', ip: '192.0.2.231' },
  v: { spam: 'PASS', virus: 'PASS', spf: 'FAIL', dkim: 'GRAY', dmarc: 'FAIL' },
  dmarcPolicy: 'none',
  fromDomain: 'bank.example',
  expect: { 'nobody@example.com': drp('unknown-recipient', 'forgedSender', '5.1.1') },
  build: (c) => ({
    headers: [
      ['From', 'Bank Security Team <security@bank.example>'],
      ['To', 'nobody@example.com'],
      ['Subject', 'Verify your online banking access'],
      ['Date', rfcDate(c.tsMs - 1000, 0)],
      ['Message-ID', '<d3b07384d113edec49eaa6238ad5ff00@vps-2231.hosting.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=us-ascii'],
      ['Content-Transfer-Encoding', '7bit'],
    ],
    body: `Dear customer,

your online banking access will be suspended today. Verify your
login at https://bank-example-verify.example/login to keep it.

Bank Security Team
`,
  }),
})

// 14a-14e: forgers and senders the guards cannot verify (issue: backscatter guards)
const forgedBody = `Your invoice 2026-11-3381 is overdue. Pay within 24 hours at
https://invoice-portal.example/pay to avoid a late fee.
`
// The forger sends with the victim's address as MAIL FROM from a host the victim's SPF forbids;
// the From domain has no DMARC record, so DMARC says nothing (GRAY).
add({
  name: 'forged-sender-no-dmarc',
  prefix: 'forgednodmarc',
  ts: '2026-11-18T19:14:03.511Z',
  shows:
    "A forger uses a victim's address as MAIL FROM: spfVerdict FAIL, while the From domain has no DMARC record (dmarcVerdict GRAY). DMARC judges the From header, not MAIL FROM, so it cannot clear the sender.",
  outcome:
    'nobody@example.com: rule unknown-recipient would bounce, guard forgedSender turns it into drop → STOP_RULE_SET',
  source: 'accounts@victim.example',
  recipients: ['nobody@example.com'],
  client: { helo: 'vps-7781.hosting.example', rdns: 'vps-7781.hosting.example', ip: '192.0.2.77' },
  v: { spam: 'PASS', virus: 'PASS', spf: 'FAIL', dkim: 'GRAY', dmarc: 'GRAY' },
  fromDomain: 'invoice-portal.example',
  expect: { 'nobody@example.com': drp('unknown-recipient', 'forgedSender', '5.1.1') },
  build: (c) => ({
    headers: [
      ['From', 'Invoice Portal <billing@invoice-portal.example>'],
      ['To', 'nobody@example.com'],
      ['Subject', 'Overdue invoice 2026-11-3381'],
      ['Date', rfcDate(c.tsMs - 1000, 0)],
      ['Message-ID', '<7c4a8d09ca3762af61e59520943dc264@vps-7781.hosting.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=us-ascii'],
      ['Content-Transfer-Encoding', '7bit'],
    ],
    body: forgedBody,
  }),
})

// The same forger signs with its own domain, which it also puts in From: DKIM and DMARC pass for
// the forger's domain, and say nothing about the victim in MAIL FROM.
add({
  name: 'forged-sender-signed',
  prefix: 'forgedsigned',
  ts: '2026-11-18T19:21:47.902Z',
  shows:
    "A forger uses a victim's address as MAIL FROM (spfVerdict FAIL) but signs with its own domain and puts that in From, so DKIM and DMARC pass: they vouch for the forger's domain, not for the address a bounce would go to.",
  outcome:
    'nobody@example.com: rule unknown-recipient would bounce, guard forgedSender turns it into drop → STOP_RULE_SET',
  source: 'accounts@victim.example',
  recipients: ['nobody@example.com'],
  client: { helo: 'mail.invoice-portal.example', rdns: 'mail.invoice-portal.example', ip: '192.0.2.78' },
  v: { spam: 'PASS', virus: 'PASS', spf: 'FAIL', dkim: 'PASS', dmarc: 'PASS' },
  dkimDomain: 'invoice-portal.example',
  fromDomain: 'invoice-portal.example',
  expect: { 'nobody@example.com': drp('unknown-recipient', 'forgedSender', '5.1.1') },
  build: (c) => ({
    headers: [
      [
        'DKIM-Signature',
        dkimSig('invoice-portal.example', 'k1', c.name, c.tsMs, 'from:to:subject:date:message-id'),
      ],
      ['From', 'Invoice Portal <billing@invoice-portal.example>'],
      ['To', 'nobody@example.com'],
      ['Subject', 'Overdue invoice 2026-11-3381'],
      ['Date', rfcDate(c.tsMs - 1000, 0)],
      ['Message-ID', '<e10adc3949ba59abbe56e057f20f883e@mail.invoice-portal.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=us-ascii'],
      ['Content-Transfer-Encoding', '7bit'],
    ],
    body: forgedBody,
  }),
})

// No SPF record for the MAIL FROM domain (SPF none → GRAY) and a DKIM signature from another
// domain: nothing vouches for the address a bounce would go to.
add({
  name: 'unverified-sender',
  prefix: 'unverified',
  ts: '2026-11-18T20:05:12.640Z',
  shows:
    "MAIL FROM's domain publishes no SPF record (spfVerdict GRAY) and the only valid DKIM signature is a mailing service's own domain, which does not align with MAIL FROM: nothing vouches for the bounce's destination.",
  outcome:
    'nobody@example.com: rule unknown-recipient would bounce, guard unverifiedSender turns it into drop → STOP_RULE_SET',
  source: 'events@smallclub.example',
  recipients: ['nobody@example.com'],
  client: {
    helo: 'out-12.sendgrid-like.example',
    rdns: 'out-12.sendgrid-like.example',
    ip: '198.51.100.112',
  },
  v: { spam: 'PASS', virus: 'PASS', spf: 'GRAY', dkim: 'PASS', dmarc: 'GRAY' },
  dkimDomain: 'sendgrid-like.example',
  fromDomain: 'smallclub.example',
  expect: { 'nobody@example.com': drp('unknown-recipient', 'unverifiedSender', '5.1.1') },
  build: (c) => ({
    headers: [
      [
        'DKIM-Signature',
        dkimSig('sendgrid-like.example', 's1', c.name, c.tsMs, 'from:to:subject:date:message-id'),
      ],
      ['From', 'Small Club <events@smallclub.example>'],
      ['To', 'nobody@example.com'],
      ['Subject', 'Club evening on Friday'],
      ['Date', rfcDate(c.tsMs - 1000, 60)],
      ['Message-ID', '<club-evening-2026-11@smallclub.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Transfer-Encoding', '7bit'],
    ],
    body: `Dear members,

our next club evening is on Friday at 19:00.

See you there!
`,
  }),
})

// SPF cannot vouch (the sending host is not in the domain's record: neutral → GRAY), but a valid
// DKIM signature of the MAIL FROM domain's parent does: the sender is verified and gets its bounce.
add({
  name: 'dkim-aligned-sender',
  prefix: 'dkimaligned',
  ts: '2026-11-18T20:31:09.118Z',
  shows:
    "SPF cannot vouch for MAIL FROM (spfVerdict GRAY: the host is not in the record), but SES's Authentication-Results shows a passing DKIM signature of its parent domain (header.i=@northwind.example for bounces.northwind.example), so the sender is verified.",
  outcome: 'nobody@example.com: bounce, rule unknown-recipient, 5.1.1 → STOP_RULE_SET',
  source: 'bounce-4411@bounces.northwind.example',
  recipients: ['nobody@example.com'],
  client: { helo: 'relay2.northwind.example', rdns: 'relay2.northwind.example', ip: '198.51.100.42' },
  v: { spam: 'PASS', virus: 'PASS', spf: 'GRAY', dkim: 'PASS', dmarc: 'PASS' },
  dkimDomain: 'northwind.example',
  fromDomain: 'northwind.example',
  expect: { 'nobody@example.com': bnc('unknown-recipient', '5.1.1') },
  build: (c) => ({
    headers: [
      [
        'DKIM-Signature',
        dkimSig('northwind.example', 'relay2026', c.name, c.tsMs, 'from:to:subject:date:message-id'),
      ],
      ['From', 'Jordan Lee <jordan.lee@northwind.example>'],
      ['To', 'nobody@example.com'],
      ['Subject', 'Quote for the Q1 order'],
      ['Date', rfcDate(c.tsMs - 2000, -300)],
      ['Message-ID', '<q1-quote.5521@northwind.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=us-ascii'],
      ['Content-Transfer-Encoding', '7bit'],
    ],
    body: `Hello,

attached to my next mail is the quote for the Q1 order.

Jordan
`,
  }),
})

// A bounce's own sender written with quotes that change nothing: still the null-sender guard.
add({
  name: 'quoted-mailer-daemon',
  prefix: 'quotedmd',
  ts: '2026-11-18T21:02:55.407Z',
  shows:
    'Envelope sender "MAILER-DAEMON"@mx.legacy.example: quoting that changes nothing does not hide a mailer-daemon (RFC 5321 §4.1.2), so this bounce of a bounce is not answered.',
  outcome:
    'nobody@example.com: rule unknown-recipient would bounce, guard nullSender turns it into drop → STOP_RULE_SET',
  source: '"MAILER-DAEMON"@mx.legacy.example',
  recipients: ['nobody@example.com'],
  client: { helo: 'mx.legacy.example', rdns: 'mx.legacy.example', ip: '203.0.113.80' },
  v: ALLPASS,
  dkimDomain: 'legacy.example',
  fromDomain: 'mx.legacy.example',
  expect: { 'nobody@example.com': drp('unknown-recipient', 'nullSender', '5.1.1') },
  build: (c) => ({
    headers: [
      ['From', 'Mail Delivery System <MAILER-DAEMON@mx.legacy.example>'],
      ['To', 'nobody@example.com'],
      ['Subject', 'Warning: message delayed'],
      ['Date', rfcDate(c.tsMs - 1000, 0)],
      ['Message-ID', '<20261118210254.4F1A2@mx.legacy.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=us-ascii'],
      ['Content-Transfer-Encoding', '7bit'],
    ],
    body: `This is the mail system at host mx.legacy.example.

Your message could not be delivered for 4 hours. It will be retried
until it is 5 days old.
`,
  }),
})

// 15 partner
add({
  name: 'partner',
  prefix: 'partner',
  ts: '2026-11-19T12:30:59.870Z',
  shows:
    'From a trusted partner (*@partner.example, DMARC pass) with an .exe attachment; the partners rule comes first.',
  outcome: 'alice@example.com: accept, rule partners → CONTINUE',
  source: 'someone@partner.example',
  recipients: ['alice@example.com'],
  client: { helo: 'mail.partner.example', rdns: 'mail.partner.example', ip: '198.51.100.201' },
  v: ALLPASS,
  dkimDomain: 'partner.example',
  fromDomain: 'partner.example',
  expect: { 'alice@example.com': acc('partners') },
  build: (c) => {
    const boundary = '=_partner_6a1f4e2c9b'
    const exe = Buffer.concat([
      Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00', 'latin1'),
      rand(`exe:${c.name}`, 3056),
    ])
    return {
      headers: [
        ['From', 'Sam Someone <someone@partner.example>'],
        ['To', 'Alice Example <alice@example.com>'],
        ['Subject', 'Updated installer build 4.2.1'],
        ['Date', rfcDate(c.tsMs - 4000, 60)],
        ['Message-ID', '<6a1f4e2c9b.build421@mail.partner.example>'],
        ['MIME-Version', '1.0'],
        ['Content-Type', `multipart/mixed; boundary="${boundary}"`],
      ],
      body:
        `--${boundary}
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

Hi Alice,

here is the signed installer for build 4.2.1 we talked about.
SHA-256 is on the release page.

Sam

--${boundary}
Content-Type: application/x-msdownload; name="setup-4.2.1.exe"
Content-Disposition: attachment; filename="setup-4.2.1.exe"
Content-Transfer-Encoding: base64

` +
        b64wrap(exe) +
        `

--${boundary}--
`,
    }
  },
})

// 16 headers-truncated (header list built below, see buildTruncated)
add({
  name: 'headers-truncated',
  prefix: 'hdrtrunc',
  ts: '2026-11-20T14:00:12.423Z',
  shows:
    "mail.headersTruncated true: the header block is over 10 KB, the event's headers stop before List-Unsubscribe; only the stored message shows it.",
  outcome:
    'billing@example.com: bounce, rule billing-no-bulk, 5.7.1 (only knowable from the stored .eml) → STOP_RULE_SET',
  source: 'bounce-7731@em.invoicely.example',
  recipients: ['billing@example.com'],
  client: { helo: 'mta-41.em.invoicely.example', rdns: 'mta-41.em.invoicely.example', ip: '203.0.113.141' },
  v: ALLPASS,
  dkimDomain: 'invoicely.example',
  spfDomain: 'em.invoicely.example',
  fromDomain: 'invoicely.example',
  truncateBefore: 'List-Unsubscribe',
  expect: { 'billing@example.com': bnc('billing-no-bulk', '5.7.1') },
  build: (c) => {
    const boundary = 'inv-digest-91c3a7e05b'
    const early = []
    // The ESP's internal relay chain, newest first (as it would appear).
    const hops = [
      ['mta-41.em.invoicely.example', 'queue-b7.internal.invoicely.example', '10.40.7.21'],
      ['queue-b7.internal.invoicely.example', 'render-03.internal.invoicely.example', '10.40.3.3'],
      ['render-03.internal.invoicely.example', 'campaign-api-2.internal.invoicely.example', '10.40.2.12'],
      ['campaign-api-2.internal.invoicely.example', 'lb-1.internal.invoicely.example', '10.40.0.5'],
      ['lb-1.internal.invoicely.example', 'scheduler-1.internal.invoicely.example', '10.40.1.8'],
      ['scheduler-1.internal.invoicely.example', 'segmenter-4.internal.invoicely.example', '10.40.4.40'],
      ['segmenter-4.internal.invoicely.example', 'ingest-2.internal.invoicely.example', '10.40.9.2'],
      ['ingest-2.internal.invoicely.example', 'app-7.internal.invoicely.example', '10.40.8.77'],
    ]
    hops.forEach(([by, from, ip], i) => {
      early.push([
        'Received',
        `from ${from} (${from} [${ip}])${CRLF} by ${by} (Postfix) with ESMTPS id ${b64(rand(`q:${i}`, 6))
          .replace(/[^A-Za-z0-9]/g, 'X')
          .toUpperCase()}${CRLF} (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)${CRLF} key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)${CRLF} for <billing@example.com>; ${rfcDate(c.tsMs - 2000 - i * 700, 0)}`,
      ])
    })
    early.push([
      'ARC-Seal',
      `i=1; a=rsa-sha256; t=${Math.floor(c.tsMs / 1000) - 3}; cv=none; d=invoicely.example; s=arc-2026;${CRLF} b=${b64wrap(rand('arcseal', 256)).replace(/\r\n/g, `${CRLF} `)}`,
    ])
    early.push([
      'ARC-Message-Signature',
      `i=1; a=rsa-sha256; c=relaxed/relaxed; d=invoicely.example; s=arc-2026;${CRLF} h=from:to:subject:date:message-id:list-unsubscribe:list-unsubscribe-post:mime-version:content-type;${CRLF} bh=${b64(rand('arcbh', 32))};${CRLF} b=${b64wrap(rand('arcms', 256)).replace(/\r\n/g, `${CRLF} `)}`,
    ])
    early.push([
      'ARC-Authentication-Results',
      `i=1; mx.invoicely.example; dkim=pass header.d=invoicely.example;${CRLF} spf=pass smtp.mailfrom=em.invoicely.example; dmarc=pass header.from=invoicely.example`,
    ])
    early.push([
      'DKIM-Signature',
      dkimSig(
        'invoicely.example',
        's1',
        'inv1',
        c.tsMs,
        'from:to:subject:date:message-id:list-unsubscribe:list-unsubscribe-post:mime-version:content-type',
      ),
    ])
    early.push([
      'DKIM-Signature',
      dkimSig('em.invoicely.example', 'esp', 'inv2', c.tsMs, 'from:to:subject:date:message-id:feedback-id'),
    ])
    early.push(['From', 'Invoicely Digest <digest@invoicely.example>'])
    early.push(['To', 'billing@example.com'])
    early.push(['Subject', 'Your November invoicing digest: 14 invoices, 3 overdue'])
    early.push(['Date', rfcDate(c.tsMs - 9000, 0)])
    early.push(['Message-ID', '<digest.91c3a7e05b.20261120@em.invoicely.example>'])
    early.push(['MIME-Version', '1.0'])
    const xs = [
      ['X-Campaign-ID', 'nov-2026-digest-91c3a7e05b'],
      ['X-Campaign-Segment', 'active-customers-eu; plan=business; locale=en-GB'],
      ['X-Invoicely-Tenant', 'tn_4b71c9e2a0f3'],
      ['X-Invoicely-Template', 'digest-monthly-v14 (rev 2026-10-28, renderer 8.3.1)'],
      ['X-Report-Abuse', 'Please report abuse to abuse@invoicely.example including the full headers'],
      ['X-Mailer', 'Invoicely Campaign Engine 8.3.1'],
      ['X-Priority', '3'],
    ]
    for (const x of xs) early.push(x)
    // Tracking header whose length is tuned below so that List-Unsubscribe is the first header
    // that no longer fits into the 10 KB (10240 byte) event header budget.
    early.push(['X-Invoicely-Tracking', 'PLACEHOLDER'])
    const late = [
      [
        'List-Unsubscribe',
        `<https://invoicely.example/unsubscribe/91c3a7e05b?r=billing%40example.com>,${CRLF} <mailto:unsubscribe@em.invoicely.example?subject=unsubscribe-91c3a7e05b>`,
      ],
      ['List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'],
      ['List-Id', 'Invoicely customer digest <digest.invoicely.example>'],
      ['Feedback-ID', '91c3a7e05b:digest:invoicely:esp'],
      ['Content-Type', `multipart/alternative; boundary="${boundary}"`],
    ]
    return {
      headers: [...early, ...late],
      tracking: 'X-Invoicely-Tracking',
      body: `--${boundary}
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

Your November digest

14 invoices sent, 3 overdue (total EUR 4,210.00).
Open the dashboard: https://app.invoicely.example/digest/2026-11

Unsubscribe: https://invoicely.example/unsubscribe/91c3a7e05b

--${boundary}
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 7bit

<html><body><h2>Your November digest</h2><p>14 invoices sent, <b>3 overdue</b>
(total EUR 4,210.00).</p><p><a href="https://app.invoicely.example/digest/2026-11">Open the
dashboard</a></p><p><a href="https://invoicely.example/unsubscribe/91c3a7e05b">Unsubscribe</a></p>
</body></html>

--${boundary}--
`,
    }
  },
})

// 17 list-bounce-address
add({
  name: 'list-bounce-address',
  prefix: 'listowner',
  ts: '2026-11-23T17:41:38.016Z',
  shows:
    "A mailing-list post whose envelope sender is the list's bounce address owner-announce@lists.example; To is the list, so mail.destination differs from receipt.recipients.",
  outcome:
    'ghost@example.com: bounce, rule unknown-recipient, 5.1.1 (owner-/-bounces addresses do get bounces) → STOP_RULE_SET',
  source: 'owner-announce@lists.example',
  recipients: ['ghost@example.com'],
  client: { helo: 'lists.example', rdns: 'lists.example', ip: '198.51.100.80' },
  v: ALLPASS,
  dkimDomain: 'lists.example',
  fromDomain: 'lists.example',
  expect: { 'ghost@example.com': bnc('unknown-recipient', '5.1.1') },
  build: (c) => ({
    headers: [
      ['From', 'Dana Whitfield via announce <announce@lists.example>'],
      ['To', 'announce@lists.example'],
      ['Subject', '[announce] Release 3.4.0 is out'],
      ['Date', rfcDate(c.tsMs - 12000, 0)],
      ['Message-ID', '<a7f3c2e1-3.4.0-release@community.example>'],
      ['List-Id', 'Project announcements <announce.lists.example>'],
      ['List-Post', '<mailto:announce@lists.example>'],
      ['List-Archive', '<https://lists.example/archives/announce/>'],
      ['List-Unsubscribe', '<mailto:announce-leave@lists.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset="us-ascii"'],
      ['Content-Transfer-Encoding', '7bit'],
    ],
    body: `Hello everyone,

release 3.4.0 is out. Highlights: faster startup, a new export
format and many bug fixes. Full notes:
https://community.example/releases/3.4.0

Dana
_______________________________________________
announce mailing list -- announce@lists.example
To unsubscribe send an email to announce-leave@lists.example
`,
  }),
})

// 18 plus-address
add({
  name: 'plus-address',
  prefix: 'plusaddr',
  ts: '2026-11-24T06:05:00.777Z',
  shows: 'Sub-addressed recipient alice+newsletter@example.com (user+tag@domain matches user@domain).',
  outcome: 'alice+newsletter@example.com: accept (no rule matches) → CONTINUE',
  source: 'news@trailclub.example',
  recipients: ['alice+newsletter@example.com'],
  client: { helo: 'mail.trailclub.example', rdns: 'mail.trailclub.example', ip: '198.51.100.33' },
  v: ALLPASS,
  dkimDomain: 'trailclub.example',
  fromDomain: 'trailclub.example',
  expect: { 'alice+newsletter@example.com': acc() },
  build: (c) => {
    const boundary = 'tc-nl-2026-11-5c0e'
    return {
      headers: [
        ['From', 'Trail Running Club <news@trailclub.example>'],
        ['To', 'alice+newsletter@example.com'],
        ['Subject', 'December group runs and the winter trail series'],
        ['Date', rfcDate(c.tsMs - 3000, 60)],
        ['Message-ID', '<nl-2026-11-5c0e@trailclub.example>'],
        ['List-Unsubscribe', '<https://trailclub.example/unsubscribe?u=5c0e>'],
        ['MIME-Version', '1.0'],
        ['Content-Type', `multipart/alternative; boundary="${boundary}"`],
      ],
      body: `--${boundary}
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

Group runs in December: Saturdays 9:00 at the north car park.
Winter trail series registration opens 1 December.

--${boundary}
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 7bit

<p>Group runs in December: Saturdays 9:00 at the north car park.</p>
<p>Winter trail series registration opens 1 December.</p>

--${boundary}--
`,
    }
  },
})

// 19 non-utf8
add({
  name: 'non-utf8',
  prefix: 'latin1',
  ts: '2026-11-25T09:27:44.360Z',
  shows:
    'Raw ISO-8859-1 8-bit bytes in the Subject header (no encoded-word) and in the body (charset=iso-8859-1, 8bit), to a wildcard mailbox *@support.example.com.',
  outcome: 'support-desk@support.example.com: accept (no rule matches) → CONTINUE',
  source: 'j.mueller@altsystem.example',
  recipients: ['support-desk@support.example.com'],
  client: { helo: 'mail.altsystem.example', rdns: 'mail.altsystem.example', ip: '203.0.113.38' },
  v: ALLPASS,
  dkimDomain: 'altsystem.example',
  fromDomain: 'altsystem.example',
  latin1: true,
  expect: { 'support-desk@support.example.com': acc() },
  build: (c) => ({
    headers: [
      ['From', 'Juergen Mueller <j.mueller@altsystem.example>'],
      ['To', 'support-desk@support.example.com'],
      ['Subject', 'Rückerstattung für Bestellung 10482 (Größe M)'],
      ['Date', rfcDate(c.tsMs - 2000, 60)],
      ['Message-ID', '<5.2.1.1.0.20261125102742.00a3c8e0@mail.altsystem.example>'],
      ['X-Mailer', 'QUALCOMM Windows Eudora Version 5.2.1'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset="iso-8859-1"'],
      ['Content-Transfer-Encoding', '8bit'],
    ],
    body: `Guten Tag,

die Jacke aus Bestellung 10482 ist mir in Größe M zu klein. Bitte
erstatten Sie mir den Betrag von 89,90 EUR zurück, ich schicke sie
heute zurück.

Mit freundlichen Grüßen
Jürgen Müller
`,
  }),
})

// ---------- shapes seen in real SES events (events/README.md "Real-world shapes") ----------
// Each case below re-creates, with reserved names, a shape that events captured from SES and
// published in public repositories show; `shape` edits the generated event the way SES did.

// 20 sender-header: commonHeaders.sender is a string, and SES keeps a folded value's CRLF
add({
  name: 'sender-header',
  prefix: 'senderhdr',
  ts: '2026-11-26T14:04:49.512Z',
  shows:
    'A mailing-list relay adds a Sender: header: commonHeaders.sender is a string (not an array), and the folded Subject keeps its CRLF in the event, as SES sends both.',
  outcome: 'nobody@example.com: bounce, rule unknown-recipient, 5.1.1 → STOP_RULE_SET',
  source: 'ap-notices+bncBD3LV5MPZUNBB@groups.example',
  recipients: ['nobody@example.com'],
  client: { helo: 'mail-relay-7.groups.example', rdns: 'mail-relay-7.groups.example', ip: '198.51.100.69' },
  v: ALLPASS,
  dkimDomain: 'groups.example',
  fromDomain: 'supplier.example',
  keepFolding: ['Subject'],
  expect: { 'nobody@example.com': bnc('unknown-recipient', '5.1.1') },
  shape: (event) => {
    event.Records[0].ses.mail.commonHeaders.sender = '"Accounts Payable" <ap@supplier.example>'
  },
  build: (c) => ({
    headers: [
      ['From', '"Accounts Payable" <ap@supplier.example>'],
      ['Sender', '"Accounts Payable" <ap@supplier.example>'],
      ['To', 'nobody@example.com'],
      ['Subject', `Acknowledgement of receipt -${CRLF} remittance advice 2026-11-26 batch 8069682357`],
      ['Date', rfcDate(c.tsMs - 4000, -180)],
      ['Message-ID', '<ack.8069682357.20261126@supplier.example>'],
      ['List-Id', '<ap-notices.groups.example>'],
      ['Precedence', 'list'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=us-ascii'],
      ['Content-Transfer-Encoding', '7bit'],
    ],
    body: `Remittance advice for batch 8069682357 has been received and
will be processed within two business days.

Accounts Payable
`,
  }),
})

// 21 reply-to-both: replyTo and reply-to in commonHeaders
add({
  name: 'reply-to-both',
  prefix: 'replyto',
  ts: '2026-11-26T15:21:33.018Z',
  shows:
    'commonHeaders carries the Reply-To header twice, as replyTo and as reply-to: the guide documented one spelling, events carry the other.',
  outcome: 'alice@example.com: accept (no rule matches) → CONTINUE',
  source: 'info@events.example',
  recipients: ['alice@example.com'],
  client: { helo: 'out.events.example', rdns: 'out.events.example', ip: '203.0.113.84' },
  v: ALLPASS,
  dkimDomain: 'events.example',
  fromDomain: 'events.example',
  expect: { 'alice@example.com': acc() },
  shape: (event) => {
    const common = event.Records[0].ses.mail.commonHeaders
    common.replyTo = ['Registration Desk <registration@events.example>']
    common['reply-to'] = ['Registration Desk <registration@events.example>']
  },
  build: (c) => ({
    headers: [
      ['From', 'Events Team <info@events.example>'],
      ['Reply-To', 'Registration Desk <registration@events.example>'],
      ['To', 'alice@example.com'],
      ['Subject', 'Your seat at the December meetup'],
      ['Date', rfcDate(c.tsMs - 2000, 60)],
      ['Message-ID', '<meetup-dec-seat-4471@events.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Transfer-Encoding', '7bit'],
    ],
    body: `Hello Alice,

your seat for the December meetup is confirmed. Reply to this
message to reach the registration desk.
`,
  }),
})

// 22 no-dmarc-verdict: an event from before SES reported DMARC
add({
  name: 'no-dmarc-verdict',
  prefix: 'nodmarc',
  ts: '2026-11-27T08:41:07.300Z',
  shows:
    'receipt has no dmarcVerdict (and no dmarcPolicy), as in the events AWS published for .NET and the SAM CLI; the missing verdict counts as DISABLED.',
  outcome: 'nobody@example.com: bounce, rule unknown-recipient, 5.1.1 → STOP_RULE_SET',
  source: 'janedoe@oldmail.example',
  recipients: ['nobody@example.com'],
  client: { helo: 'mailer.oldmail.example', rdns: 'mailer.oldmail.example', ip: '203.0.113.1' },
  v: ALLPASS,
  dkimDomain: 'oldmail.example',
  fromDomain: 'oldmail.example',
  expect: { 'nobody@example.com': bnc('unknown-recipient', '5.1.1') },
  shape: (event) => {
    delete event.Records[0].ses.receipt.dmarcVerdict
  },
  build: (c) => ({
    headers: [
      ['From', 'Jane Doe <janedoe@oldmail.example>'],
      ['To', 'nobody@example.com'],
      ['Subject', 'Test Subject'],
      ['Date', rfcDate(c.tsMs - 3000, -420)],
      ['Message-ID', '<0123456789@oldmail.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=UTF-8'],
    ],
    body: `Hello, is this address still in use?
`,
  }),
})

// 23 no-common-headers: SES leaves out every commonHeaders field the message lacks
add({
  name: 'no-common-headers',
  prefix: 'nocommon',
  ts: '2026-11-27T10:01:06.720Z',
  shows:
    'An empty From: header and no To, Subject, Date or Message-ID: SES leaves every field out, commonHeaders is {}; dmarcVerdict PROCESSING_FAILED.',
  outcome: 'nobody@example.com: bounce, rule unknown-recipient, 5.1.1 → STOP_RULE_SET',
  source: 'noreply@receipts.example',
  recipients: ['nobody@example.com'],
  client: { helo: 'smtp01.receipts.example', rdns: 'smtp01.receipts.example', ip: '198.51.100.200' },
  v: { ...ALLPASS, dkim: 'GRAY', dmarc: 'PROCESSING_FAILED' },
  dkimDomain: 'receipts.example',
  fromDomain: 'receipts.example',
  expect: { 'nobody@example.com': bnc('unknown-recipient', '5.1.1') },
  shape: (event) => {
    event.Records[0].ses.mail.commonHeaders = {}
  },
  build: () => ({
    headers: [
      ['From', ''],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=us-ascii'],
    ],
    body: `Receipt 8073690560 acknowledged.
`,
  }),
})

// 24 very-old: the 1970 timestamps of AWS's own sample events, Event invocation
add({
  name: 'very-old',
  prefix: 'veryold',
  ts: '1970-01-01T00:00:00Z',
  shows:
    'Timestamps of 1970-01-01T00:00:00Z without milliseconds (AWS sample events), Event invocation, dmarcPolicy "reject" beside a PASS dmarcVerdict. Too old for SendBounce: decided, but not sent.',
  outcome:
    'nobody@example.com: bounce, rule unknown-recipient, 5.1.1 (decided; SendBounce refuses mail older than 24 hours, so nothing is sent when enforced) → STOP_RULE_SET',
  source: 'janedoe@oldmail.example',
  recipients: ['nobody@example.com'],
  client: { helo: 'mailer.oldmail.example', rdns: 'mailer.oldmail.example', ip: '203.0.113.1' },
  v: ALLPASS,
  dkimDomain: 'oldmail.example',
  fromDomain: 'oldmail.example',
  invocationType: 'Event',
  expect: { 'nobody@example.com': bnc('unknown-recipient', '5.1.1') },
  shape: (event) => {
    event.Records[0].ses.receipt.dmarcPolicy = 'reject'
  },
  build: (c) => ({
    headers: [
      ['From', 'Jane Doe <janedoe@oldmail.example>'],
      ['To', 'nobody@example.com'],
      ['Subject', 'Test Subject'],
      ['Date', rfcDate(c.tsMs, 0)],
      ['Message-ID', '<0123456789.veryold@oldmail.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=UTF-8'],
    ],
    body: `Hello from the epoch.
`,
  }),
})

// 25 very-new: fields beyond the documentation pass untouched
add({
  name: 'very-new',
  prefix: 'verynew',
  ts: '2026-11-28T16:31:14.331Z',
  shows:
    'Fields no guide lists, of any type (receipt.action.organizationArn, a mail.tags object, a numeric eventVersion), Cc and Reply-To in commonHeaders, Message-Id spelt so, and an upper-case envelope domain.',
  outcome: 'bob@EXAMPLE.COM: accept (no rule matches) → CONTINUE',
  source: 'billing@vendor.example',
  recipients: ['bob@EXAMPLE.COM'],
  client: { helo: 'mail-oa1.vendor.example', rdns: 'mail-oa1.vendor.example', ip: '198.51.100.160' },
  v: { ...ALLPASS, dkim: 'GRAY' },
  dkimDomain: 'vendor.example',
  fromDomain: 'vendor.example',
  expect: { 'bob@EXAMPLE.COM': acc() },
  shape: (event) => {
    const record = event.Records[0]
    record.eventVersion = 1.1
    record.ses.mail.tags = { 'ses:source-tls-version': ['TLSv1.3'], 'ses:operation': ['Receive'] }
    record.ses.mail.commonHeaders.replyTo = ['billing-help@vendor.example']
    record.ses.receipt.action.organizationArn =
      'arn:aws:organizations::123456789012:organization/o-exampleorgid'
    record.ses.receipt.processingTimeMillis = String(record.ses.receipt.processingTimeMillis)
  },
  build: (c) => ({
    headers: [
      ['From', 'Vendor Billing <billing@vendor.example>'],
      ['Reply-To', 'billing-help@vendor.example'],
      ['To', 'bob@example.com'],
      ['Cc', 'ap@example.com'],
      ['Subject', 'Invoice 449270 for November'],
      ['Date', rfcDate(c.tsMs - 4000, -180)],
      ['Message-Id', '<20261128163110.2F8E71074C4F@vendor.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Transfer-Encoding', '7bit'],
    ],
    body: `Invoice 449270 (EUR 1,240.00) is due on 28 December.
`,
  }),
})

// 26 exchange-journal: an Exchange Online journal report
add({
  name: 'exchange-journal',
  prefix: 'journal',
  ts: '2026-11-29T12:14:51.761Z',
  shows:
    'An Exchange Online journal report: Sender: MicrosoftExchange… (commonHeaders.sender a bare address), X-MS-Journal-Report, Auto-Submitted: auto-generated; spam and virus scanning DISABLED (no X-SES verdict headers), spfVerdict PROCESSING_FAILED, dmarcVerdict FAIL with policy none.',
  outcome:
    'journal@example.com: rule unknown-recipient would bounce, guard unverifiedSender (neither SPF nor DKIM passes) turns it into drop → STOP_RULE_SET',
  source: 'JournalReports@tenant.example',
  recipients: ['journal@example.com'],
  client: {
    helo: 'mail-eur01.outbound.protection.example',
    rdns: 'mail-eur01.outbound.protection.example',
    ip: '198.51.100.53',
  },
  v: { spam: 'DISABLED', virus: 'DISABLED', spf: 'PROCESSING_FAILED', dkim: 'GRAY', dmarc: 'FAIL' },
  dmarcPolicy: 'none',
  scanHeaders: false,
  dkimDomain: 'tenant.example',
  fromDomain: 'news.example',
  expect: { 'journal@example.com': drp('unknown-recipient', 'unverifiedSender', '5.1.1') },
  shape: (event) => {
    const common = event.Records[0].ses.mail.commonHeaders
    // SES decodes the encoded word in commonHeaders.from and gives Sender as a bare address.
    common.from = ['News Desk <no.reply@news.example>']
    common.sender = 'MicrosoftExchange329e71ec88ae@tenant.onmicrosoft.example'
  },
  build: (c) => {
    const boundary = '_ba735b42-46a6-4a6d-91dc-75014d02dfc0_'
    return {
      headers: [
        ['Content-Type', `multipart/mixed; boundary="${boundary}"`],
        ['Subject', 'Quarterly survey: how small businesses work with us'],
        ['To', 'records@tenant.example'],
        ['From', '"=?US-ASCII?Q?News_Desk?=" <no.reply@news.example>'],
        ['MIME-Version', '1.0'],
        ['Sender', '<MicrosoftExchange329e71ec88ae@tenant.onmicrosoft.example>'],
        ['Message-ID', '<c92f18b5-4df5-41e1-871c-5063b407273f@journal.report.generator>'],
        ['Date', rfcDate(c.tsMs - 1000, 0)],
        ['X-MS-PublicTrafficType', 'Email'],
        ['X-MS-Journal-Report', ''],
        ['X-MS-Exchange-Parent-Message-Id', '<16826335.363822@news.example>'],
        ['Auto-Submitted', 'auto-generated'],
        ['X-MS-Exchange-Generated-Message-Source', 'Journal Agent'],
        ['X-MS-TrafficTypeDiagnostic', 'PR3PR10MB3914:JournalingReport'],
        ['X-OriginatorOrg', 'tenant.onmicrosoft.example'],
        ['X-MS-Exchange-CrossTenant-Network-Message-Id', '44218cb8-217d-4ec7-b41b-08d7b3a2fd0f'],
        ['X-MS-Exchange-CrossTenant-FromEntityHeader', 'Hosted'],
        ['X-MS-Exchange-Transport-CrossTenantHeadersStamped', 'PR3PR10MB3914'],
      ],
      body: `--${boundary}
Content-Type: text/plain; charset="us-ascii"

Sender: no.reply@news.example
Subject: Quarterly survey: how small businesses work with us
Message-Id: <16826335.363822@news.example>
To: records@tenant.example

--${boundary}
Content-Type: message/rfc822

From: News Desk <no.reply@news.example>
To: records@tenant.example
Subject: Quarterly survey: how small businesses work with us
Message-ID: <16826335.363822@news.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Tell us how you work with us: five questions, two minutes.

--${boundary}--
`,
    }
  },
})

// 27 hundred-headers: a long relay chain, 100 entries in mail.headers, not truncated
add({
  name: 'hundred-headers',
  prefix: 'hundredhdr',
  ts: '2026-11-30T09:12:40.118Z',
  shows:
    'A message relayed through a long chain (Received, ARC, X- headers): exactly 100 entries in mail.headers, still under 10 KB, so not truncated; List-Unsubscribe is the last one.',
  outcome: 'billing@example.com: bounce, rule billing-no-bulk, 5.7.1 → STOP_RULE_SET',
  source: 'digest+bnc1@lists.vendor.example',
  recipients: ['billing@example.com'],
  client: {
    helo: 'mail-out.lists.vendor.example',
    rdns: 'mail-out.lists.vendor.example',
    ip: '198.51.100.44',
  },
  v: ALLPASS,
  dkimDomain: 'lists.vendor.example',
  fromDomain: 'vendor.example',
  expect: { 'billing@example.com': bnc('billing-no-bulk', '5.7.1') },
  headerCount: 100,
  build: (c) => {
    const own = [
      ['From', 'Vendor Digest <digest@vendor.example>'],
      ['To', 'billing@example.com'],
      ['Subject', 'Weekly price list'],
      ['Date', rfcDate(c.tsMs - 60000, 0)],
      ['Message-ID', '<weekly-prices-48@vendor.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=us-ascii'],
    ]
    const hops = []
    // 8 SES headers + hops + own + List-Unsubscribe = 100
    const wanted = 100 - 8 - own.length - 1
    for (let hop = 0; hops.length < wanted; hop++) {
      hops.push([
        'Received',
        `from r${hop + 1}.vendor.example by r${hop}.vendor.example; ${rfcDate(c.tsMs - 1000 * hop, 0)}`,
      ])
      if (hops.length < wanted && hops.length % 4 === 3)
        hops.push([`X-Trace-${hop}`, b64(rand(`trace:${hop}`, 6))])
    }
    return {
      headers: [...hops, ...own, ['List-Unsubscribe', '<mailto:unsubscribe@lists.vendor.example>']],
      body: `This week's price list is attached to the portal.
`,
    }
  },
})

// 28 no-event-source: a record without eventSource and eventVersion
add({
  name: 'no-event-source',
  prefix: 'nosource',
  ts: '2026-11-30T10:17:54.164Z',
  shows:
    'The record has no eventSource and no eventVersion (only ses), From has an empty display name ("" <…>) and X-Auto-Response-Suppress is set.',
  outcome: 'alice@example.com: accept (no rule matches) → CONTINUE',
  source: 'notification@social.example',
  recipients: ['alice@example.com'],
  client: { helo: 'mx-out.social.example', rdns: 'outmail.social.example', ip: '203.0.113.158' },
  v: ALLPASS,
  dkimDomain: 'social.example',
  fromDomain: 'social.example',
  expect: { 'alice@example.com': acc() },
  shape: (event) => {
    const record = event.Records[0]
    delete record.eventSource
    delete record.eventVersion
  },
  build: (c) => ({
    headers: [
      ['Date', rfcDate(c.tsMs - 1000, -480)],
      ['To', 'alice@example.com'],
      ['Subject', 'Bob invited you to the trail run'],
      ['From', '"" <notification@social.example>'],
      ['Reply-to', 'noreply <noreply@social.example>'],
      ['X-Auto-Response-Suppress', 'All'],
      ['Message-ID', '<4134b673101baaef@www.social.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=utf-8'],
    ],
    body: `Bob invited you to the trail run on Saturday.
`,
  }),
})

// 29 unusable-recipients: recipients SES would never send are never bounced
add({
  name: 'unusable-recipients',
  prefix: 'oddrcpt',
  ts: '2026-11-30T11:40:02.905Z',
  shows:
    'receipt.recipients holds strings SES never sends (a display name, angle brackets, no domain) beside an ordinary unknown mailbox: only that one is bounced; the others are named in the log line.',
  outcome:
    'Nobody <nobody@example.com>, <ghost@example.com>, invite@: accept (never bounced, named in recipientsNeverBounced); nobody@example.com: bounce, rule unknown-recipient, 5.1.1 → CONTINUE',
  source: 'alerts@monitor.example',
  recipients: ['Nobody <nobody@example.com>', '<ghost@example.com>', 'invite@', 'nobody@example.com'],
  client: { helo: 'mail.monitor.example', rdns: 'mail.monitor.example', ip: '198.51.100.90' },
  v: ALLPASS,
  dkimDomain: 'monitor.example',
  fromDomain: 'monitor.example',
  expect: {
    'Nobody <nobody@example.com>': acc(),
    '<ghost@example.com>': acc(),
    'invite@': acc(),
    'nobody@example.com': bnc('unknown-recipient', '5.1.1'),
  },
  build: (c) => ({
    headers: [
      ['From', 'Monitor <alerts@monitor.example>'],
      ['To', 'nobody@example.com'],
      ['Subject', 'Disk usage above 90% on web-3'],
      ['Date', rfcDate(c.tsMs - 2000, 0)],
      ['Message-ID', '<alert-77120@monitor.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=us-ascii'],
    ],
    body: `web-3: /var at 91% (threshold 90%).
`,
  }),
})

// 30 s3-action-notification: not a Lambda action event at all
add({
  name: 's3-action-notification',
  prefix: 's3action',
  ts: '2026-11-30T12:31:14.331Z',
  shows:
    'The notification of an S3 action (action.type S3 with bucketName and objectKey, no invocationType), sent to the function by hand or by a mis-wired rule: not a Lambda action event.',
  outcome:
    'not usable: answered CONTINUE with every problem named, EventsRejected counted; nothing read or sent',
  source: 'martin.keller@acme-logistics.example',
  recipients: ['nobody@example.com'],
  client: { helo: 'mail.acme-logistics.example', rdns: 'mail.acme-logistics.example', ip: '198.51.100.17' },
  v: ALLPASS,
  dkimDomain: 'acme-logistics.example',
  fromDomain: 'acme-logistics.example',
  rejected: [
    'Records[0].ses.receipt.action.type: expected "Lambda": this is not a Lambda action event',
    'Records[0].ses.receipt.action.invocationType: Invalid option: expected one of "Event"|"RequestResponse"',
  ],
  shape: (event, c) => {
    event.Records[0].ses.receipt.action = {
      type: 'S3',
      topicArn: 'arn:aws:sns:us-east-1:123456789012:inbound-mail',
      bucketName: 'inbound-mail-example',
      objectKeyPrefix: 'inbound/',
      objectKey: `inbound/${c.id}`,
    }
  },
  build: (c) => ({
    headers: [
      ['From', 'Martin Keller <martin.keller@acme-logistics.example>'],
      ['To', 'nobody@example.com'],
      ['Subject', 'Delivery schedule'],
      ['Date', rfcDate(c.tsMs - 2000, 60)],
      ['Message-ID', '<s3action.4471@mail.acme-logistics.example>'],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=us-ascii'],
    ],
    body: `The pallets leave on Tuesday.
`,
  }),
})

// ---------- build ----------
const HEADER_LIMIT = 10 * 1024
const enc = (s, latin1) => {
  for (const ch of s) {
    const cp = ch.codePointAt(0)
    if (cp > (latin1 ? 0xff : 0x7f))
      throw new Error(`non-${latin1 ? 'latin1' : 'ascii'} char ${JSON.stringify(ch)}`)
  }
  return Buffer.from(s, 'latin1')
}
const headerBytes = (h) => Buffer.byteLength(`${h[0]}: ${h[1]}${CRLF}`, 'latin1')

const expected = {}
const readme = []
const ids = new Set()
for (const c of cases) {
  c.tsMs = Date.parse(c.ts)
  c.id = sesMessageId(c.prefix, c.name)
  if (ids.has(c.id)) throw new Error('dup id')
  ids.add(c.id)
  const built = c.build(c)
  const ses = sesHeaders(c)
  const all = [...ses, ...built.headers]

  let eventHeaders = all
  if (c.truncateBefore) {
    const cut = all.findIndex((h) => h[0] === c.truncateBefore)
    const ti = all.findIndex((h) => h[0] === built.tracking)
    const before = all.slice(0, cut).reduce((n, h) => n + headerBytes(h), 0) - headerBytes(all[ti])
    const lu = headerBytes(all[cut])
    // choose tracking header size so that sum(before cut) <= 10240 < sum(before cut) + List-Unsubscribe
    const base = `${built.tracking}: ${CRLF}`.length
    const target = HEADER_LIMIT - before - Math.floor(lu / 2) // well inside the window
    const valLen = target - base
    const chunks = []
    const tok = b64(rand('tracking', valLen)).replace(/[^A-Za-z0-9]/g, 'q')
    let raw = ''
    let i = 0
    // fold the tracking token into 70-char pieces: "v1.<tok>;" on the first line, then " <piece>"
    raw = `v1.${tok.slice(0, 66)}`
    i = 66
    while (raw.length < valLen) {
      const remaining = valLen - raw.length - 3 // CRLF + space
      if (remaining <= 0) break
      const piece = tok.slice(i, i + Math.min(70, remaining))
      i += piece.length
      raw += `${CRLF} ${piece}`
    }
    all[ti] = [built.tracking, raw]
    void chunks
    const sumBefore = all.slice(0, cut).reduce((n, h) => n + headerBytes(h), 0)
    if (!(sumBefore <= HEADER_LIMIT && sumBefore + lu > HEADER_LIMIT))
      throw new Error(`truncation window missed: ${sumBefore} + ${lu}`)
    const total = all.reduce((n, h) => n + headerBytes(h), 0)
    if (total <= HEADER_LIMIT) throw new Error('header block not > 10 KB')
    c.headerStats = { sumBefore, total }
    eventHeaders = all.slice(0, cut)
  }

  // raw message
  const headText = all.map((h) => `${h[0]}: ${h[1]}${CRLF}`).join('')
  const bodyText = lf2crlf(built.body)
  const eml = Buffer.concat([enc(headText, c.latin1), enc(CRLF, false), enc(bodyText, c.latin1)])
  fs.writeFileSync(path.join(OUT, `${c.id}.eml`), eml)

  // event
  // SES passes some values with their folding CRLF still in (events/README.md, sender-header).
  const keepFolding = new Set((c.keepFolding ?? []).map((name) => name.toLowerCase()))
  const eventValue = ([name, value]) => (keepFolding.has(name.toLowerCase()) ? value : unfold(value))
  const own = Object.fromEntries(
    built.headers
      .map((h) => [h[0].toLowerCase(), eventValue(h)])
      .filter(([k]) => ['from', 'to', 'cc', 'subject', 'date', 'message-id'].includes(k)),
  )
  const commonHeaders = {}
  commonHeaders.returnPath = c.source
  commonHeaders.from = splitAddrs(own.from)
  commonHeaders.date = own.date
  if (own.to) commonHeaders.to = splitAddrs(own.to)
  if (own.cc) commonHeaders.cc = splitAddrs(own.cc)
  commonHeaders.messageId = own['message-id']
  commonHeaders.subject = own.subject
  const destination = [...(commonHeaders.to ?? []), ...(commonHeaders.cc ?? [])].map(bareAddr)
  const receipt = {
    timestamp: c.ts,
    processingTimeMillis: 300 + (rand(`ptm:${c.name}`, 2).readUInt16BE(0) % 1200),
    recipients: c.recipients,
    spamVerdict: { status: c.v.spam },
    virusVerdict: { status: c.v.virus },
    spfVerdict: { status: c.v.spf },
    dkimVerdict: { status: c.v.dkim },
    dmarcVerdict: { status: c.v.dmarc },
  }
  if (c.v.dmarc === 'FAIL') receipt.dmarcPolicy = c.dmarcPolicy
  else if (c.dmarcPolicy) throw new Error('dmarcPolicy without FAIL')
  receipt.action = {
    type: 'Lambda',
    functionArn: FUNCTION_ARN,
    invocationType: c.invocationType ?? 'RequestResponse',
  }
  const event = {
    Records: [
      {
        eventSource: 'aws:ses',
        eventVersion: '1.0',
        ses: {
          mail: {
            timestamp: c.ts,
            source: c.source,
            messageId: c.id,
            destination,
            headersTruncated: Boolean(c.truncateBefore),
            headers: eventHeaders.map((h) => ({ name: h[0], value: eventValue(h) })),
            commonHeaders,
          },
          receipt,
        },
      },
    ],
  }
  if (c.headerCount !== undefined) {
    const bytes = eventHeaders.reduce((n, h) => n + headerBytes(h), 0)
    if (eventHeaders.length !== c.headerCount || bytes > HEADER_LIMIT)
      throw new Error(`${c.name}: ${eventHeaders.length} headers, ${bytes} bytes`)
  }
  c.shape?.(event, c)
  fs.writeFileSync(path.join(OUT, `${c.name}.json`), `${JSON.stringify(event, null, 2)}\n`)

  if (c.rejected) {
    // Not usable: answered CONTINUE with every problem named, nothing decided.
    expected[c.name] = { messageId: c.id, disposition: 'CONTINUE', recipients: {}, problems: c.rejected }
  } else {
    const anyAccepted = Object.values(c.expect).some((r) => r.action === 'accept')
    for (const r of c.recipients) if (!c.expect[r]) throw new Error(`no expectation for ${r}`)
    expected[c.name] = {
      messageId: c.id,
      disposition: anyAccepted ? 'CONTINUE' : 'STOP_RULE_SET',
      recipients: c.expect,
    }
  }
  readme.push(c)
  console.log(c.name.padEnd(24), c.id, eml.length, c.headerStats ? JSON.stringify(c.headerStats) : '')
}

fs.mkdirSync(path.join(ROOT, 'test/fixtures'), { recursive: true })
fs.writeFileSync(
  path.join(ROOT, 'test/fixtures/events-expected.json'),
  `${JSON.stringify(expected, null, 2)}\n`,
)
