import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { re2PatternEngine } from '../../src/adapters/re2-pattern-engine.js'
import { parseSize } from '../../src/config/compile-rules.js'
import { type Config, DEFAULT_RULES_FILE, loadConfig } from '../../src/config/load-config.js'
import { ConfigError, type ConfigProblem, formatPath, formatProblem } from '../../src/config/problems.js'
import { regexLiteral } from '../../src/config/rules-schema.js'
import { BouncerError } from '../../src/domain/errors.js'
import { DEFAULT_SAFETY } from '../../src/domain/safety.js'
import { memoryFiles } from './support/builders.js'

const PKG = '/pkg'
const EVENTS_DIR = fileURLToPath(new URL('../../events/', import.meta.url))

type Env = Record<string, string | undefined>

const BASE_ENV: Env = { MAIL_BUCKET: 'mail', IDEMPOTENCY_TABLE: 'ledger' }

/** loadConfig over in-memory files rooted at /pkg; the rules file defaults to /pkg/bounce-rules.yml. */
function load(files: Record<string, string>, env: Env = BASE_ENV): Config {
  const absolute = Object.fromEntries(Object.entries(files).map(([path, text]) => [`${PKG}/${path}`, text]))
  return loadConfig(env, memoryFiles(absolute), PKG, re2PatternEngine)
}

/** The ConfigError loadConfig throws, or a test failure when it does not. */
function problemsOf(files: Record<string, string>, env: Env = BASE_ENV): ConfigProblem[] {
  try {
    load(files, env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return [...(error as ConfigError).problems]
  }
  throw new Error('expected a ConfigError')
}

/** `path: message` of each problem; where it is in the file is tested in rules-problems.test.ts. */
function formatted(files: Record<string, string>, env: Env = BASE_ENV): string[] {
  return problemsOf(files, env).map(({ path, message }) => formatProblem({ path, message }))
}

const HEAD = 'bounceSender: mailer-daemon@example.com\n'
const rulesFile = (rules: string, head = HEAD) => ({ [DEFAULT_RULES_FILE]: `${head}rules:\n${rules}` })
const SIZE_HINT = 'expected a size like 10M (bytes; K and M are 1024-based)'
const PATTERN_HINT = (pattern: string) =>
  `"${pattern}" is not a pattern like user@domain, *@domain or *@*.domain`

describe('the sample rules file (events/bounce-rules.yml)', () => {
  const sample = {
    'events/bounce-rules.yml': readFileSync(`${EVENTS_DIR}bounce-rules.yml`, 'utf8'),
    'events/blocked-senders.txt': readFileSync(`${EVENTS_DIR}blocked-senders.txt`, 'utf8'),
    'events/mailboxes.txt': readFileSync(`${EVENTS_DIR}mailboxes.txt`, 'utf8'),
  }
  const config = load(sample, {
    RULES_FILE: 'events/bounce-rules.yml',
    MAIL_DIR: 'events',
    IDEMPOTENCY_TABLE: 't',
  })

  it('loads with every rule, in order, and its settings', () => {
    expect(config.rulesFile).toBe('/pkg/events/bounce-rules.yml')
    expect(config.ruleSet.rules.map((rule) => [rule.name, rule.action.kind])).toEqual([
      ['partners', 'accept'],
      ['blocked-senders', 'drop'],
      ['dmarc-reject', 'drop'],
      ['unknown-recipient', 'bounce'],
      ['too-large', 'bounce'],
      ['no-executables', 'bounce'],
      ['billing-no-bulk', 'bounce'],
    ])
    expect(config.ruleSet.mode).toBe('enforce')
    expect(config.ruleSet.safety).toEqual(DEFAULT_SAFETY)
    expect(config.ruleSet.bounce).toMatchObject({
      bounceSender: 'mailer-daemon@example.com',
      reportingMta: 'mx.example.com',
      explanation: 'Your message could not be delivered to one or more recipients.',
    })
    expect(config.ruleSet.bounce).not.toHaveProperty('bounceSenderArn')
    expect(config.messageStore).toEqual({ kind: 'directory', directory: '/pkg/events' })
    expect(config.idempotencyTable).toBe('t')
    expect(config.warnings).toEqual([])
  })

  it('compiles the conditions and lists it names', () => {
    const byName = new Map(config.ruleSet.rules.map((rule) => [rule.name, rule]))
    const tooLarge = byName.get('too-large')
    expect(tooLarge?.conditions).toEqual([{ kind: 'size', overBytes: 256 * 1024 }])
    const blocked = byName.get('blocked-senders')?.conditions[0]
    expect(blocked?.kind === 'address' && blocked.field === 'sender' && !blocked.negate).toBe(true)
    if (blocked?.kind === 'address') {
      expect(blocked.set.has('x@spam.example')).toBe(true)
      expect(blocked.set.has('x@mx.bulk-offers.example')).toBe(true)
      expect(blocked.set.has('x@bulk-offers.example')).toBe(false)
    }
    const unknown = byName.get('unknown-recipient')?.conditions[0]
    expect(unknown?.kind === 'address' && unknown.negate).toBe(true)
    if (unknown?.kind === 'address') expect(unknown.set.size).toBe(4)
    expect(byName.get('billing-no-bulk')?.action).toEqual({
      kind: 'bounce',
      bounce: {
        type: 'ContentRejected',
        status: '5.7.1',
        diagnostic: 'smtp; 550 5.7.1 <{recipient}>: bulk mail is not accepted at this address',
      },
    })
    expect(byName.get('no-executables')?.action).toEqual({
      kind: 'bounce',
      bounce: {
        type: 'ContentRejected',
        status: '5.7.1',
        diagnostic: 'smtp; 550 5.7.1 Message content rejected',
        explanation: 'Executable attachments are not accepted.',
      },
    })
  })
})

describe('rules file formats', () => {
  it('reads a .json rules file as JSON', () => {
    const json = JSON.stringify({
      bounceSender: 'mailer-daemon@example.com',
      mode: 'dry-run',
      rules: [
        {
          name: 'unknown',
          when: { recipient: { notIn: ['alice@example.com'] } },
          bounce: { type: 'DoesNotExist' },
        },
      ],
    })
    const config = load({ 'conf/rules.JSON': json }, { ...BASE_ENV, RULES_FILE: 'conf/rules.JSON' })
    expect(config.rulesFile).toBe('/pkg/conf/rules.JSON')
    expect(config.ruleSet.mode).toBe('dry-run')
    expect(config.ruleSet.rules.map((rule) => rule.name)).toEqual(['unknown'])
  })

  it('reports invalid JSON with the file position', () => {
    const problems = problemsOf({ 'rules.json': '{ "rules": [ }' }, { ...BASE_ENV, RULES_FILE: 'rules.json' })
    expect(problems).toHaveLength(1)
    expect(problems[0]?.path).toBe('')
    expect(problems[0]?.message).toMatch(/^not valid JSON: /)
  })

  it('reports invalid YAML and duplicate YAML keys', () => {
    const [bad] = problemsOf({ [DEFAULT_RULES_FILE]: 'rules: [\n  - name: x\n' })
    expect(bad?.path).toBe('')
    expect(bad?.message).toMatch(/^not valid YAML: /)
    const [duplicate] = problemsOf({ [DEFAULT_RULES_FILE]: 'rules: []\nrules: []\n' })
    expect(duplicate?.message).toMatch(/^not valid YAML: .*unique/is)
  })

  it('an empty file lacks rules', () => {
    expect(problemsOf({ [DEFAULT_RULES_FILE]: '' }).map((problem) => problem.path)).toEqual(['rules'])
  })

  it('an empty rule list is valid and accepts everything', () => {
    const config = load({ [DEFAULT_RULES_FILE]: 'rules: []\n' })
    expect(config.ruleSet.rules).toEqual([])
    expect(config.ruleSet.bounce.bounceSender).toBe('')
  })

  it('reads the rules file named by RULES_FILE, relative to the base directory, or absolute', () => {
    const files = memoryFiles({ '/etc/bouncer/rules.yml': 'rules: []\n' })
    const config = loadConfig({ RULES_FILE: '/etc/bouncer/rules.yml', MAIL_BUCKET: 'b' }, files, PKG)
    expect(config.rulesFile).toBe('/etc/bouncer/rules.yml')
    expect(files.reads).toEqual(['/etc/bouncer/rules.yml'])
  })

  it('an unreadable rules file is one problem naming RULES_FILE and the path', () => {
    expect(formatted({})).toEqual([
      "RULES_FILE: cannot read /pkg/bounce-rules.yml: ENOENT: no such file or directory, open '/pkg/bounce-rules.yml'",
    ])
  })
})

describe('an invalid rules file: one ConfigError listing every problem with its path', () => {
  it('names the path of a bad size like DESIGN.md says', () => {
    const files = rulesFile(`
  - { name: a, accept: true }
  - { name: b, drop: true }
  - { name: c, when: { size: { over: 10G } }, drop: true }`)
    expect(formatted(files)).toEqual([`rules[2].when.size.over: ${SIZE_HINT}; got "10G"`])
    let error: unknown
    try {
      load(files)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toBeInstanceOf(BouncerError)
    expect((error as ConfigError).message).toBe(
      `Invalid configuration (1 problem):\n  - rules[2] "c" when.size.over (line 6, column 32): ${SIZE_HINT}; got "10G"`,
    )
  })

  it.each(['10G', '1.5M', '-1', 'ten', '10 MB', ''])('size %j is not a size', (over) => {
    expect(formatted(rulesFile(`  - { name: c, when: { size: { over: "${over}" } }, drop: true }`))).toEqual([
      `rules[0].when.size.over: ${SIZE_HINT}; got ${JSON.stringify(over)}`,
    ])
  })

  it('a fractional or negative number is not a size', () => {
    expect(formatted(rulesFile('  - { name: c, when: { size: { over: 1.5 } }, drop: true }'))).toEqual([
      `rules[0].when.size.over: ${SIZE_HINT}; got 1.5`,
    ])
    expect(formatted(rulesFile('  - { name: c, when: { size: { over: -1 } }, drop: true }'))).toEqual([
      'rules[0].when.size.over: Too small: expected number to be >=0; got -1',
    ])
  })

  it('lists every problem of a file at once, each with its path', () => {
    const files = {
      [DEFAULT_RULES_FILE]: `
bounceSender: not-an-address
reportingMta: "mx example com"
bounceSenderArn: arn:aws:s3:::bucket
mode: observe
surprise: 1
safety: { spam: maybe, maxBouncesPerSender: 0, extra: true }
rules:
  - name: a
    when: { recipient: { in: [] } }
    bounce: { type: DoesNotExist, status: 2.0.0 }
  - name: a
    drop: true
    accept: true
  - name: c
    when: { size: { over: 10G }, unknown: 1 }
    drop: true
  - name: d
    when: { header: { name: "X-A:", matches: "/(/" } }
    bounce: { type: Nope, colour: red }
  - name: e
    when: { sender: { in: ["not a pattern", "*@*"] } }
    drop: true
  - name: "bad name!"
  - name: a
    drop: true
`,
    }
    expect(formatted(files)).toEqual([
      'bounceSender: expected an address like mailer-daemon@example.com; got "not-an-address"',
      'bounceSenderArn: expected an SES identity ARN; got "arn:aws:s3:::bucket"',
      'reportingMta: expected a host name like mx.example.com; got "mx example com"',
      'mode: expected one of enforce, dry-run; got "observe"',
      'safety.spam: expected boolean; got "maybe"',
      'safety.maxBouncesPerSender: Too small: expected number to be >0; got 0',
      'safety.extra: unknown key (expected nullSender, autoSubmitted, spam, virus, forgedSender, unverifiedSender, maxBouncesPerSender, maxBouncesPerSenderDomain)',
      'rules[0].when.recipient.in: expected at least one pattern; got an empty list',
      'rules[0].bounce.status: expected an RFC 3463 failure status like 5.7.1 (class 4 or 5); got "2.0.0"',
      'rules[1]: expected exactly one of bounce, drop: true, accept: true; got { name, drop, accept }',
      `rules[2].when.size.over: ${SIZE_HINT}; got "10G"`,
      'rules[2].when.unknown: unknown key (expected recipient, sender, from, verdict, dmarcPolicy, size, attachment, header)',
      'rules[3].when.header.name: expected a header field name (RFC 5322 §3.6.8); got "X-A:"',
      'rules[3].bounce.type: expected one of DoesNotExist, MessageTooLarge, ExceededQuota, ContentRejected, Undefined, TemporaryFailure; got "Nope"',
      'rules[3].bounce.colour: unknown key (expected type, status, diagnostic, explanation)',
      `rules[4].when.sender.in[0]: ${PATTERN_HINT('not a pattern')}`,
      `rules[4].when.sender.in[1]: ${PATTERN_HINT('*@*')}`,
      'rules[5].name: expected a name of letters, digits, . _ -; got "bad name!"',
      'rules[5]: expected exactly one of bounce, drop: true, accept: true; got { name }',
      'surprise: unknown key (expected bounceSender, bounceSenderArn, reportingMta, explanation, extensionFields, mode, onUnreadable, safety, rules)',
      'rules[1].name: duplicate rule name "a" (first used by rules[0])',
      'rules[6].name: duplicate rule name "a" (first used by rules[0])',
      'rules[3].when.header.matches: rule "d": not valid RE2 syntax: missing closing ): `(`',
    ])
  })

  it('unknown keys are reported at every level', () => {
    const problems = problemsOf({
      [DEFAULT_RULES_FILE]: `
rulez: []
safety: { spamm: true }
rules:
  - name: a
    whenn: {}
    drop: true
  - name: b
    when: { recipient: { in: [a@b.example], inn: [c@d.example] }, verdict: { spam: FAIL, ham: PASS }, attachment: { name: ["*.exe"] } }
    drop: true
  - name: c
    bounce: { type: Undefined, reason: x }
  - name: d
    when: { size: { over: 1M, under: 2M }, header: { name: X, exists: true, value: y } }
    drop: true
`,
    })
    const unknown = problems.filter((p) => /^unknown key/.test(p.message))
    expect(unknown.map(({ path, message }) => `${path}: ${message}`)).toEqual(
      expect.arrayContaining([
        'rulez: unknown key; did you mean "rules"?',
        'safety.spamm: unknown key; did you mean "spam"?',
        'rules[0].whenn: unknown key; did you mean "when"?',
        'rules[1].when.recipient.inn: unknown key; did you mean "in"?',
        'rules[1].when.verdict.ham: unknown key (expected spam, virus, spf, dkim, dmarc)',
        'rules[1].when.attachment.name: unknown key (expected filename, contentType)',
        'rules[2].bounce.reason: unknown key (expected type, status, diagnostic, explanation)',
        'rules[3].when.size.under: unknown key (expected over)',
        'rules[3].when.header.value: unknown key (expected name, exists, equals, contains, matches)',
      ]),
    )
    expect(unknown).toHaveLength(9)
  })

  it('duplicate rule names name the first use', () => {
    expect(
      formatted(
        rulesFile(`
  - { name: one, drop: true }
  - { name: two, drop: true }
  - { name: one, accept: true }
  - { name: two, accept: true }`),
      ),
    ).toEqual([
      'rules[2].name: duplicate rule name "one" (first used by rules[0])',
      'rules[3].name: duplicate rule name "two" (first used by rules[1])',
    ])
  })

  it('exactly one action: two, three or none are each a problem', () => {
    expect(
      formatted(
        rulesFile(`
  - { name: two, drop: true, accept: true }
  - { name: three, drop: true, accept: true, bounce: { type: Undefined } }
  - { name: none }
  - { name: ok, drop: true }`),
      ),
    ).toEqual([
      'rules[0]: expected exactly one of bounce, drop: true, accept: true; got { name, drop, accept }',
      'rules[1]: expected exactly one of bounce, drop: true, accept: true; got { name, drop, accept, bounce }',
      'rules[2]: expected exactly one of bounce, drop: true, accept: true; got { name }',
    ])
  })

  it('drop: false and accept: false are not actions', () => {
    expect(problemsOf(rulesFile('  - { name: a, drop: false }')).map((p) => p.path)).toEqual([
      'rules[0].drop',
    ])
    expect(problemsOf(rulesFile('  - { name: a, accept: false }')).map((p) => p.path)).toEqual([
      'rules[0].accept',
    ])
  })

  it('bad regular expressions, including the stateful g and y flags', () => {
    expect(
      formatted(
        rulesFile(`
  - { name: a, when: { header: { name: X, matches: "[" } }, drop: true }
  - { name: b, when: { header: { name: X, matches: "/x/g" } }, drop: true }
  - { name: c, when: { header: { name: X, matches: "/x/iy" } }, drop: true }
  - { name: d, when: { header: { name: X, matches: "/x/q" } }, drop: true }
  - { name: e, when: { header: { name: X, matches: "/x/is" } }, drop: true }
  - { name: f, when: { header: { name: X, matches: "//" } }, drop: true }`),
      ),
    ).toEqual([
      'rules[1].when.header.matches: not a valid regular expression: flags g and y are not allowed; got "/x/g"',
      'rules[2].when.header.matches: not a valid regular expression: flags g and y are not allowed; got "/x/iy"',
      'rules[3].when.header.matches: not a valid regular expression: unknown flags q (use i, m, s); got "/x/q"',
      'rules[5].when.header.matches: not a valid regular expression: empty pattern; got "//"',
      'rules[0].when.header.matches: rule "a": not valid RE2 syntax: missing closing ]: `[`',
    ])
  })

  it('patterns RE2 cannot run are refused with the rule and its path: backreferences, lookaround, size', () => {
    expect(
      formatted(
        rulesFile(`
  - { name: backref, when: { header: { name: X, matches: "(a)\\\\1" } }, drop: true }
  - { name: named-backref, when: { header: { name: X, matches: "(?<q>a)\\\\k<q>" } }, drop: true }
  - { name: ahead, when: { header: { name: X, matches: "/^(?=.*invoice)/i" } }, drop: true }
  - { name: not-ahead, when: { header: { name: X, matches: "foo(?!bar)" } }, drop: true }
  - { name: behind, when: { header: { name: X, matches: "(?<=re:)x" } }, drop: true }
  - { name: not-behind, when: { header: { name: X, matches: "(?<!re:)x" } }, drop: true }
  - { name: huge, when: { header: { name: X, matches: "[a-z]{1000}" } }, drop: true }
  - { name: fine, when: { header: { name: X, matches: "/^(\\\\w+\\\\s?)+$/i" } }, drop: true }`),
      ),
    ).toEqual([
      'rules[0].when.header.matches: rule "backref": RE2 syntax has no backreferences (\\1, \\k<name>): matches runs in linear time, see docs/rules.md',
      'rules[1].when.header.matches: rule "named-backref": RE2 syntax has no backreferences (\\1, \\k<name>): matches runs in linear time, see docs/rules.md',
      'rules[2].when.header.matches: rule "ahead": RE2 syntax has no lookahead or lookbehind ((?=, (?!, (?<=, (?<!): matches runs in linear time, see docs/rules.md',
      'rules[3].when.header.matches: rule "not-ahead": RE2 syntax has no lookahead or lookbehind ((?=, (?!, (?<=, (?<!): matches runs in linear time, see docs/rules.md',
      'rules[4].when.header.matches: rule "behind": RE2 syntax has no lookahead or lookbehind ((?=, (?!, (?<=, (?<!): matches runs in linear time, see docs/rules.md',
      'rules[5].when.header.matches: rule "not-behind": RE2 syntax has no lookahead or lookbehind ((?=, (?!, (?<=, (?<!): matches runs in linear time, see docs/rules.md',
      'rules[6].when.header.matches: rule "huge": too complex: it compiles to 1002 RE2 instructions, at most 512 (x{n} counts x n times)',
    ])
  })

  it('header: exactly one of exists, equals, contains, matches', () => {
    expect(
      formatted(
        rulesFile(`
  - { name: a, when: { header: { name: X } }, drop: true }
  - { name: b, when: { header: { name: X, exists: true, equals: y } }, drop: true }`),
      ),
    ).toEqual([
      'rules[0].when.header: expected exactly one of exists, equals, contains, matches; got { name }',
      'rules[1].when.header: expected exactly one of exists, equals, contains, matches; got { name, exists, equals }',
    ])
  })

  it('bad statuses and types', () => {
    const status = 'expected an RFC 3463 failure status like 5.7.1 (class 4 or 5)'
    expect(
      formatted(
        rulesFile(`
  - { name: a, bounce: { type: ContentRejected, status: 2.0.0 } }
  - { name: b, bounce: { type: ContentRejected, status: 5.01.1 } }
  - { name: c, bounce: { type: ContentRejected, status: "550" } }
  - { name: d, bounce: { type: ContentRejected, status: 4.7.1 } }
  - { name: e, bounce: { type: contentrejected } }`),
      ),
    ).toEqual([
      `rules[0].bounce.status: ${status}; got "2.0.0"`,
      `rules[1].bounce.status: ${status}; got "5.01.1"`,
      `rules[2].bounce.status: ${status}; got "550"`,
      'rules[4].bounce.type: expected one of DoesNotExist, MessageTooLarge, ExceededQuota, ContentRejected, Undefined, TemporaryFailure; got "contentrejected"; did you mean "ContentRejected"?',
    ])
  })

  it('address conditions take exactly one of in, notIn, inFile, notInFile', () => {
    expect(
      formatted(
        rulesFile(`
  - { name: a, when: { recipient: { in: [a@b.example], notIn: [c@d.example] } }, drop: true }
  - { name: b, when: { sender: {} }, drop: true }`),
      ),
    ).toEqual([
      'rules[0].when.recipient: expected exactly one of in, notIn, inFile, notInFile; got { in, notIn }',
      'rules[1].when.sender: expected exactly one of in, notIn, inFile, notInFile; got {}',
    ])
  })

  it('an invalid inline pattern is listed together with the other schema problems', () => {
    expect(
      formatted(
        rulesFile(`
  - { name: a, when: { sender: { notIn: ["*@.example.com", "ok@example.com"] }, size: { over: 1X } }, drop: true }`),
      ),
    ).toEqual([
      `rules[0].when.sender.notIn[0]: ${PATTERN_HINT('*@.example.com')}`,
      `rules[0].when.size.over: ${SIZE_HINT}; got "1X"`,
    ])
  })

  it('an empty pattern is reported once', () => {
    expect(formatted(rulesFile('  - { name: a, when: { from: { in: [""] } }, drop: true }'))).toEqual([
      'rules[0].when.from.in[0]: Too small: expected string to have >=1 characters; got ""',
    ])
  })
})

describe('pattern files (inFile / notInFile)', () => {
  it('an unreadable file is reported with its path in the rules file', () => {
    expect(
      formatted({
        ...rulesFile(`
  - { name: a, when: { recipient: { notInFile: missing.txt } }, drop: true }
  - { name: b, when: { from: { inFile: lists/gone.txt } }, drop: true }`),
      }),
    ).toEqual([
      "rules[0].when.recipient.notInFile: cannot read pattern file missing.txt: ENOENT: no such file or directory, open '/pkg/missing.txt'",
      "rules[1].when.from.inFile: cannot read pattern file lists/gone.txt: ENOENT: no such file or directory, open '/pkg/lists/gone.txt'",
    ])
  })

  it('an invalid pattern is reported with the file and line number', () => {
    expect(
      formatted({
        ...rulesFile(`
  - { name: a, drop: true }
  - { name: b, when: { sender: { inFile: blocked.txt } }, drop: true }`),
        'blocked.txt':
          '# blocked\n*@spam.example\r\nnot a pattern\n\n   \n*@*.\nok@example.com\nuser@*.example\n',
      }),
    ).toEqual([
      `rules[1].when.sender.inFile (blocked.txt line 3): ${PATTERN_HINT('not a pattern')}`,
      `rules[1].when.sender.inFile (blocked.txt line 6): ${PATTERN_HINT('*@*.')}`,
      `rules[1].when.sender.inFile (blocked.txt line 8): ${PATTERN_HINT('user@*.example')}`,
    ])
  })

  it('lists at most 20 bad lines of a file, then counts the rest', () => {
    const bad = Array.from({ length: 25 }, (_, i) => `bad${i}`).join('\n')
    const problems = formatted({
      ...rulesFile('  - { name: a, when: { recipient: { inFile: bad.txt } }, drop: true }'),
      'bad.txt': bad,
    })
    expect(problems).toHaveLength(21)
    expect(problems[0]).toBe(`rules[0].when.recipient.inFile (bad.txt line 1): ${PATTERN_HINT('bad0')}`)
    expect(problems[19]).toBe(`rules[0].when.recipient.inFile (bad.txt line 20): ${PATTERN_HINT('bad19')}`)
    expect(problems[20]).toBe('rules[0].when.recipient.inFile: 5 more invalid patterns in bad.txt')
  })

  it('exactly 20 bad lines are all listed with no summary', () => {
    const bad = Array.from({ length: 20 }, (_, i) => `bad${i}`).join('\n')
    const problems = formatted({
      ...rulesFile('  - { name: a, when: { recipient: { inFile: bad.txt } }, drop: true }'),
      'bad.txt': bad,
    })
    expect(problems).toHaveLength(20)
  })

  it('reads each file once, relative to the rules file, skipping blank lines, comments and a BOM', () => {
    const files = memoryFiles({
      '/pkg/conf/rules.yml': `${HEAD}rules:
  - { name: a, when: { recipient: { inFile: lists/mailboxes.txt } }, accept: true }
  - { name: b, when: { recipient: { notInFile: lists/mailboxes.txt } }, bounce: { type: DoesNotExist } }
  - { name: c, when: { sender: { inFile: /abs/blocked.txt } }, drop: true }`,
      '/pkg/conf/lists/mailboxes.txt':
        '\uFEFFalice@example.com\n# bob@example.com\n\n*@support.example.com\n',
      '/abs/blocked.txt': '*@spam.example',
    })
    const config = loadConfig({ RULES_FILE: 'conf/rules.yml', MAIL_BUCKET: 'b' }, files, PKG)
    expect(files.reads).toEqual(['/pkg/conf/rules.yml', '/pkg/conf/lists/mailboxes.txt', '/abs/blocked.txt'])
    const [a, b] = config.ruleSet.rules
    const first = a?.conditions[0]
    const second = b?.conditions[0]
    expect(first?.kind === 'address' && second?.kind === 'address' && first.set === second.set).toBe(true)
    if (first?.kind === 'address') {
      expect(first.set.size).toBe(2)
      expect(first.set.has('alice@example.com')).toBe(true)
      expect(first.set.has('bob@example.com')).toBe(false)
      expect(first.set.has('x@support.example.com')).toBe(true)
    }
  })
})

describe('compiled rules', () => {
  it('orders conditions cheapest first: event, then size, then content', () => {
    const config = load(
      rulesFile(`
  - name: a
    when:
      attachment: { filename: ["*.exe"] }
      size: { over: 1K }
      header: { name: X-A, exists: true }
      recipient: { in: [a@b.example] }
      verdict: { spam: FAIL, dkim: [FAIL, GRAY] }
      dmarcPolicy: [reject]
    drop: true`),
    )
    expect(config.ruleSet.rules[0]?.conditions.map((condition) => condition.kind)).toEqual([
      'address',
      'verdict',
      'verdict',
      'dmarcPolicy',
      'header',
      'size',
      'attachment',
    ])
  })

  it('header names are lower-cased, regexes parsed, globs compiled', () => {
    const config = load(
      rulesFile(`
  - { name: a, when: { header: { name: X-Mailer, matches: "/^mass/i" } }, drop: true }
  - { name: b, when: { attachment: { contentType: ["application/*"] } }, drop: true }`),
    )
    const [a, b] = config.ruleSet.rules
    const header = a?.conditions[0]
    expect(header?.kind === 'header' && header.name).toBe('x-mailer')
    if (header?.kind === 'header' && header.test.kind === 'matches') {
      expect(header.test.pattern.source).toBe('/^mass/i')
      expect(header.test.pattern.test('MASS mailer')).toBe(true)
      expect(header.test.pattern.test('a mass mailer')).toBe(false)
    } else {
      expect.fail('not a matches test')
    }
    expect(config.ruleSet.patterns).toHaveLength(1)
    const attachment = b?.conditions[0]
    expect(attachment?.kind === 'attachment' && attachment.filename === undefined).toBe(true)
    if (attachment?.kind === 'attachment')
      expect(attachment.contentType?.map((glob) => glob.source)).toEqual(['application/*'])
  })

  it('parseSize: bytes, K and M are 1024-based, case-insensitive, spaces allowed', () => {
    expect(parseSize(0)).toBe(0)
    expect(parseSize(12345)).toBe(12345)
    expect(parseSize('12345')).toBe(12345)
    expect(parseSize('1K')).toBe(1024)
    expect(parseSize('1k')).toBe(1024)
    expect(parseSize('10M')).toBe(10_485_760)
    expect(parseSize(' 3 m ')).toBe(3 * 1024 * 1024)
  })

  it('regexLiteral: /pattern/flags or a bare pattern', () => {
    expect(regexLiteral('/a.c/i')).toEqual({ source: 'a.c', flags: 'i' })
    expect(regexLiteral('a/b')).toEqual({ source: 'a/b', flags: '' })
    expect(regexLiteral('/a/b/')).toEqual({ source: 'a/b', flags: '' })
    expect(regexLiteral('/a/imsu')).toEqual({ source: 'a', flags: 'imsu' })
    expect(() => regexLiteral('/a/g')).toThrow(SyntaxError)
    expect(() => regexLiteral('/a/ii')).toThrow(SyntaxError)
  })
})

describe('environment', () => {
  const EVENT_ONLY = rulesFile(
    '  - { name: u, when: { recipient: { notIn: [a@example.com] } }, bounce: { type: DoesNotExist } }',
  )
  const SIZE_RULE = rulesFile(
    '  - { name: big, when: { size: { over: 10M } }, bounce: { type: MessageTooLarge } }',
  )
  const CONTENT_RULE = rulesFile(
    '  - { name: exe, when: { attachment: { filename: ["*.exe"] } }, drop: true }',
  )

  it.each([
    ['true', true],
    ['TRUE', true],
    [' True ', true],
    ['1', true],
    ['yes', true],
    ['YES', true],
    ['false', false],
    ['0', false],
    ['no', false],
    ['', false],
    [undefined, false],
  ] as const)('DRY_RUN=%j → dry-run %s', (value, dryRun) => {
    const config = load(EVENT_ONLY, { ...BASE_ENV, DRY_RUN: value })
    expect(config.ruleSet.mode).toBe(dryRun ? 'dry-run' : 'enforce')
  })

  it('DRY_RUN=false does not undo mode: dry-run in the file', () => {
    const files = rulesFile('  []', `${HEAD}mode: dry-run\n`)
    expect(load(files, { ...BASE_ENV, DRY_RUN: 'false' }).ruleSet.mode).toBe('dry-run')
  })

  it('an unknown DRY_RUN value is a problem', () => {
    const [problem] = problemsOf(EVENT_ONLY, { ...BASE_ENV, DRY_RUN: 'maybe' })
    expect(problem?.path).toBe('DRY_RUN')
  })

  it('BOUNCE_SENDER overrides bounceSender', () => {
    const config = load(EVENT_ONLY, { ...BASE_ENV, BOUNCE_SENDER: ' postmaster@mail.example.org ' })
    expect(config.ruleSet.bounce.bounceSender).toBe('postmaster@mail.example.org')
    expect(load(EVENT_ONLY).ruleSet.bounce.bounceSender).toBe('mailer-daemon@example.com')
    expect(load(EVENT_ONLY, { ...BASE_ENV, BOUNCE_SENDER: '' }).ruleSet.bounce.bounceSender).toBe(
      'mailer-daemon@example.com',
    )
  })

  it('BOUNCE_SENDER must be an address', () => {
    expect(formatted(EVENT_ONLY, { ...BASE_ENV, BOUNCE_SENDER: 'mailer-daemon' })).toEqual([
      'BOUNCE_SENDER: expected an address like mailer-daemon@example.com',
    ])
  })

  it('a bounce sender with a control or bidi character is refused: it would not read as sent', () => {
    for (const sender of [
      'mailer\u202edaemon@example.com',
      'mailer\u0007daemon@example.com',
      'x@bücher.example',
    ]) {
      expect(formatted(EVENT_ONLY, { ...BASE_ENV, BOUNCE_SENDER: sender })).toEqual([
        'BOUNCE_SENDER: expected an address like mailer-daemon@example.com',
      ])
    }
    expect(
      load(EVENT_ONLY, { ...BASE_ENV, BOUNCE_SENDER: 'x@xn--bcher-kva.example' }).ruleSet.bounce.bounceSender,
    ).toBe('x@xn--bcher-kva.example')
  })

  it('a bounce sender is required when a rule bounces, from the file or BOUNCE_SENDER', () => {
    const noSender = { [DEFAULT_RULES_FILE]: 'rules:\n  - { name: u, bounce: { type: DoesNotExist } }\n' }
    expect(formatted(noSender)).toEqual(['bounceSender: required when a rule bounces (or set BOUNCE_SENDER)'])
    expect(load(noSender, { ...BASE_ENV, BOUNCE_SENDER: 'md@example.com' }).ruleSet.bounce.bounceSender).toBe(
      'md@example.com',
    )
    expect(
      load({ [DEFAULT_RULES_FILE]: 'rules:\n  - { name: d, drop: true }\n' }).ruleSet.bounce.bounceSender,
    ).toBe('')
  })

  it('MAIL_BUCKET with MAIL_PREFIX, or an empty prefix', () => {
    expect(load(EVENT_ONLY, { ...BASE_ENV, MAIL_PREFIX: 'inbound/' }).messageStore).toEqual({
      kind: 's3',
      bucket: 'mail',
      prefix: 'inbound/',
    })
    expect(load(EVENT_ONLY).messageStore).toEqual({ kind: 's3', bucket: 'mail', prefix: '' })
  })

  it('MAIL_DIR resolves against the base directory; MAIL_DIR and MAIL_BUCKET together are a problem', () => {
    expect(load(EVENT_ONLY, { MAIL_DIR: 'events' }).messageStore).toEqual({
      kind: 'directory',
      directory: '/pkg/events',
    })
    expect(formatted(EVENT_ONLY, { ...BASE_ENV, MAIL_DIR: 'events' })).toEqual([
      'MAIL_DIR: set either MAIL_DIR (events) or MAIL_BUCKET (mail), not both',
    ])
    expect(load(EVENT_ONLY, { MAIL_DIR: '/var/mail' }).messageStore).toEqual({
      kind: 'directory',
      directory: '/var/mail',
    })
  })

  it('a rule that tests the size or content needs a message store', () => {
    expect(formatted(SIZE_RULE, {})).toEqual([
      'MAIL_BUCKET: required (or MAIL_DIR): a rule tests the message size',
    ])
    expect(formatted(CONTENT_RULE, { MAIL_BUCKET: '  ' })).toEqual([
      'MAIL_BUCKET: required (or MAIL_DIR): a rule tests the message content',
    ])
    expect(load(SIZE_RULE, { MAIL_DIR: 'mail' }).messageStore?.kind).toBe('directory')
    expect(load(CONTENT_RULE, { MAIL_BUCKET: 'b' }).messageStore?.kind).toBe('s3')
  })

  it('event-only rules run without a store, with a warning', () => {
    const config = load(EVENT_ONLY, { IDEMPOTENCY_TABLE: 'ledger' })
    expect(config.messageStore).toBeUndefined()
    expect(config.warnings).toEqual([
      'MAIL_BUCKET is not set: a message whose headers SES truncated cannot be checked and is never bounced',
    ])
  })

  it('warns when IDEMPOTENCY_TABLE is unset', () => {
    const config = load(EVENT_ONLY, { MAIL_BUCKET: 'mail' })
    expect(config.idempotencyTable).toBeUndefined()
    expect(config).not.toHaveProperty('idempotencyTable')
    expect(config.warnings).toEqual([
      'IDEMPOTENCY_TABLE is not set: exactly-once bounces and per-sender limits are off',
    ])
    expect(load(EVENT_ONLY, {}).warnings).toHaveLength(2)
    expect(load(EVENT_ONLY, { MAIL_BUCKET: 'm', IDEMPOTENCY_TABLE: 'ledger' }).warnings).toEqual([])
  })

  it('region from AWS_REGION names the default Reporting-MTA', () => {
    const config = load(EVENT_ONLY, { ...BASE_ENV, AWS_REGION: 'eu-west-1' })
    expect(config.region).toBe('eu-west-1')
    expect(config.ruleSet.bounce.reportingMta).toBe('inbound-smtp.eu-west-1.amazonaws.com')
    expect(load(EVENT_ONLY).ruleSet.bounce.reportingMta).toBe('inbound-smtp.us-east-1.amazonaws.com')
    expect(load(EVENT_ONLY).region).toBe('us-east-1')
  })

  it('file settings reach the rule set: ARN, reporting MTA, explanation, safety', () => {
    const config = load(
      rulesFile(
        '  []',
        `${HEAD}bounceSenderArn: arn:aws:ses:us-east-1:123456789012:identity/example.com
reportingMta: mx.example.com.
explanation: Go away.
safety: { nullSender: false, maxBouncesPerSender: 2 }
`,
      ),
    )
    expect(config.ruleSet.bounce).toEqual({
      bounceSender: 'mailer-daemon@example.com',
      bounceSenderArn: 'arn:aws:ses:us-east-1:123456789012:identity/example.com',
      reportingMta: 'mx.example.com.',
      explanation: 'Go away.',
    })
    expect(config.ruleSet.safety).toEqual({ ...DEFAULT_SAFETY, nullSender: false, maxBouncesPerSender: 2 })
  })

  it('environment and rules-file problems come in the same single error', () => {
    const problems = formatted(
      {
        ...rulesFile(`
  - { name: a, when: { size: { over: huge } }, drop: true }`),
      },
      { DRY_RUN: 'perhaps', BOUNCE_SENDER: 'nobody' },
    )
    expect(problems).toHaveLength(3)
    expect(problems).toEqual(
      expect.arrayContaining([
        'BOUNCE_SENDER: expected an address like mailer-daemon@example.com',
        `rules[0].when.size.over: ${SIZE_HINT}; got "huge"`,
      ]),
    )
    expect(problems.some((problem) => problem.startsWith('DRY_RUN: '))).toBe(true)
  })

  it('environment problems, a missing store and pattern-file problems together', () => {
    const problems = formatted(
      {
        ...rulesFile(`
  - { name: a, when: { sender: { inFile: nope.txt } }, drop: true }
  - { name: b, when: { size: { over: 1M } }, drop: true }`),
      },
      { BOUNCE_SENDER: 'nobody' },
    )
    expect(problems).toEqual([
      'BOUNCE_SENDER: expected an address like mailer-daemon@example.com',
      "rules[0].when.sender.inFile: cannot read pattern file nope.txt: ENOENT: no such file or directory, open '/pkg/nope.txt'",
      'MAIL_BUCKET: required (or MAIL_DIR): a rule tests the message size',
    ])
  })
})

describe('problems formatting', () => {
  it('formatPath writes indexes in brackets and keys with dots', () => {
    expect(formatPath(['rules', 2, 'when', 'size', 'over'])).toBe('rules[2].when.size.over')
    expect(formatPath([])).toBe('')
    expect(formatPath([0, 'a'])).toBe('[0].a')
  })

  it('ConfigError lists each problem on its own line, counting them', () => {
    const error = new ConfigError([
      { path: 'a.b', message: 'one' },
      { path: '', message: 'two' },
    ])
    expect(error.name).toBe('ConfigError')
    expect(error.message).toBe('Invalid configuration (2 problems):\n  - a.b: one\n  - two')
    expect(new ConfigError([{ path: 'x', message: 'y' }], 'quota settings').message).toBe(
      'Invalid quota settings (1 problem):\n  - x: y',
    )
  })
})
