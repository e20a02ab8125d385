import { describe, expect, it } from 'vitest'
import * as yaml from 'yaml'
import { compileRuleSet } from '../../src/config/load-config.js'
import { type ConfigProblem, formatProblem } from '../../src/config/problems.js'
import { locateProblems, suggestion } from '../../src/config/rules-problems.js'

const SETTINGS = {
  dryRun: false,
  region: 'us-east-1',
  messageStore: { kind: 'directory', directory: '/m' },
} as const

function problemsOf(
  text: string,
  format: 'yaml' | 'json' = 'yaml',
  lists: Record<string, string> = {},
): string[] {
  const problems: ConfigProblem[] = []
  compileRuleSet(
    text,
    format,
    (name) => {
      const list = lists[name]
      if (list === undefined) throw new Error(`ENOENT: ${name}`)
      return list
    },
    SETTINGS,
    problems,
    [],
    undefined,
    yaml,
  )
  return problems.map(formatProblem)
}

describe('rules problems point at the mistake', () => {
  it('name the rule, its line and column, the bad value and the nearest known key or value', () => {
    const text = `bounceSender: mailer-daemon@example.com
rules:
  - name: too-large
    when: { size: { over: 10MB } }
    bounce: { type: MessageTooLarge }
  - name: unknown-mailbox
    when:
      recipent: { notInFile: mailboxes.txt }
    bounce: { type: DoesntExist }
  - name: no-exe
    when: { attachment: { filename: ["*.exe"] } }
    bounce: { type: ContentRejected }
    drop: true
`
    expect(problemsOf(text)).toEqual([
      'rules[0] "too-large" when.size.over (line 4, column 21): expected a size like 10M (bytes; K and M are 1024-based); got "10MB"',
      'rules[1] "unknown-mailbox" when.recipent (line 8, column 7): unknown key; did you mean "recipient"?',
      'rules[1] "unknown-mailbox" bounce.type (line 9, column 15): expected one of DoesNotExist, MessageTooLarge, ExceededQuota, ContentRejected, Undefined, TemporaryFailure; got "DoesntExist"; did you mean "DoesNotExist"?',
      'rules[2] "no-exe" (line 10, column 5): expected exactly one of bounce, drop: true, accept: true; got { name, when, bounce, drop }',
    ])
  })

  it('locate a JSON file too, and a JSON syntax error by its line', () => {
    const json =
      '{\n  "rules": [\n    { "name": "a", "drop": true, "when": { "sender": { "in": ["@x.example"] } } }\n  ]\n}\n'
    expect(problemsOf(json, 'json')).toEqual([
      'rules[0] "a" when.sender.in[0] (line 3, column 63): "@x.example" is not a pattern like user@domain, *@domain or *@*.domain',
    ])
    const [syntax] = problemsOf('{\n  "rules": [\n    { "name": "a" }\n    { "name": "b" }\n  ]\n}\n', 'json')
    expect(syntax).toMatch(/^\(line 4, column 5\): not valid JSON: /)
  })

  it('a problem in a pattern file keeps the file and line of the pattern, and gets the rule name', () => {
    const text = 'rules:\n  - name: blocked\n    when: { sender: { inFile: blocked.txt } }\n    drop: true\n'
    expect(problemsOf(text, 'yaml', { 'blocked.txt': '*@ok.example\nnot a pattern\n' })).toEqual([
      'rules[0] "blocked" when.sender.inFile (blocked.txt line 2): "not a pattern" is not a pattern like user@domain, *@domain or *@*.domain',
    ])
    expect(problemsOf(text)).toEqual([
      'rules[0] "blocked" when.sender.inFile (line 3, column 23): cannot read pattern file blocked.txt: ENOENT: blocked.txt',
    ])
  })

  it('a key missing at the top has no place to point at; an environment variable is left as it is', () => {
    expect(problemsOf('bounceSendr: a@b.example\nrules: []\n')).toEqual([
      'bounceSendr (line 1, column 1): unknown key; did you mean "bounceSender"?',
    ])
    expect(problemsOf('rules:\n  - { name: a, bounce: { type: Undefined } }\n')).toEqual([
      'bounceSender: required when a rule bounces (or set BOUNCE_SENDER)',
    ])
    const located = locateProblems('rules: []\n', [{ path: 'MAIL_BUCKET', message: 'required' }], yaml)
    expect(located).toEqual([{ path: 'MAIL_BUCKET', message: 'required' }])
  })
})

describe('suggestion', () => {
  it('suggests within one edit per three letters, ignoring case, and nothing for an exact match', () => {
    expect(suggestion('recipent', ['recipient', 'sender'])).toBe('; did you mean "recipient"?')
    expect(suggestion('Recipient', ['recipient'])).toBe('; did you mean "recipient"?')
    expect(suggestion('sedner', ['sender'])).toBe('; did you mean "sender"?')
    expect(suggestion('colour', ['type', 'status'])).toBe('')
    expect(suggestion('recipient', ['recipient'])).toBe('')
  })
})
