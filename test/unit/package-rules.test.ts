import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { ConfigError } from '../../src/config/problems.js'
import { packageRules } from '../../src/runtime/package-rules.js'
import { memoryFiles } from './support/builders.js'

const { environmentAtPackageTime } = createRequire(import.meta.url)(
  '../../serverless/packaged-rules.cjs',
) as {
  environmentAtPackageTime(
    environment: Record<string, unknown>,
    conditions: Record<string, unknown>,
  ): Record<string, string | undefined>
}

const SERVICE = '/srv/app'
const RULES = `bounceSender: mailer-daemon@example.com
rules:
  - name: unknown-recipient
    when: { recipient: { notInFile: ../shared/mailboxes.txt } }
    bounce: { type: DoesNotExist }
  - name: blocked
    when: { sender: { inFile: lists/blocked.txt } }
    drop: true
`
const FILES = {
  [`${SERVICE}/bounce-rules.yml`]: RULES,
  '/srv/shared/mailboxes.txt': 'alice@example.com\n*@support.example.com\n',
  [`${SERVICE}/lists/blocked.txt`]: '*@spam.example\n',
}
const ENV = { RULES_FILE: 'bounce-rules.yml', MAIL_BUCKET: 'mail', IDEMPOTENCY_TABLE: 'state' }

async function problemsOf(run: () => unknown): Promise<string[]> {
  try {
    await run()
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`)
    throw error
  }
  throw new Error('no ConfigError')
}

describe('packageRules: the rules checked and compiled for the package', () => {
  it('compiles the document and every pattern file it names into one JSON file', async () => {
    const packaged = await packageRules(ENV, SERVICE, memoryFiles(FILES))
    expect(packaged.compiledName).toBe('bounce-rules.compiled.json')
    expect(packaged.ruleNames).toEqual(['unknown-recipient', 'blocked'])
    expect(packaged.patternFiles).toEqual(['../shared/mailboxes.txt', 'lists/blocked.txt'])
    const compiled = JSON.parse(packaged.text)
    expect(compiled.compiledRules).toMatchObject({ format: 1, source: 'bounce-rules.yml' })
    expect(compiled.patternFiles['../shared/mailboxes.txt']).toBe(FILES['/srv/shared/mailboxes.txt'])
  })

  it('is read at cold start without a YAML parser and decides like the file it came from', async () => {
    const packaged = await packageRules(ENV, SERVICE, memoryFiles(FILES))
    const compiledPath = `/task/${packaged.compiledName}`
    // No `yaml` in these files: a YAML file would throw, a compiled one never needs it.
    const files = { readText: memoryFiles({ [compiledPath]: packaged.text }).readText }
    const fromCompiled = loadConfig({ ...ENV, RULES_FILE: compiledPath }, files)
    const fromSource = loadConfig(ENV, memoryFiles(FILES), SERVICE)
    expect(fromCompiled.ruleSet.rules.map((rule) => rule.name)).toEqual(['unknown-recipient', 'blocked'])
    const recipients = fromCompiled.ruleSet.rules[0]?.conditions[0]
    const original = fromSource.ruleSet.rules[0]?.conditions[0]
    if (recipients?.kind !== 'address' || original?.kind !== 'address') throw new Error('address condition')
    for (const address of ['alice@example.com', 'bob@support.example.com', 'ghost@example.com']) {
      expect(recipients.set.has(address), address).toBe(original.set.has(address))
    }
  })

  it('lists every problem, the environment’s and the pattern files’, as the cold start does', async () => {
    const files = memoryFiles({ [`${SERVICE}/bounce-rules.yml`]: RULES })
    expect(await problemsOf(() => packageRules({ ...ENV, BOUNCE_SENDER: 'nobody' }, SERVICE, files))).toEqual(
      [
        'BOUNCE_SENDER: expected an address like mailer-daemon@example.com',
        "rules[0].when.recipient.notInFile: cannot read pattern file ../shared/mailboxes.txt: ENOENT: no such file or directory, open '/srv/shared/mailboxes.txt'",
        "rules[1].when.sender.inFile: cannot read pattern file lists/blocked.txt: ENOENT: no such file or directory, open '/srv/app/lists/blocked.txt'",
      ],
    )
  })

  it('checks `matches` patterns with the pattern engine the function uses', async () => {
    const rules = `${RULES}  - name: tagged
    when: { header: { name: Subject, matches: "/(a+)\\\\1/" } }
    drop: true
`
    const files = memoryFiles({ ...FILES, [`${SERVICE}/bounce-rules.yml`]: rules })
    const problems = await problemsOf(() => packageRules(ENV, SERVICE, files))
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^rules\[2\]\.when\.header\.matches: rule "tagged": /)
  })

  it('leaves the check of a value only CloudFormation gives to the cold start', async () => {
    const env = { ...ENV, BOUNCE_QUEUE_URL: '<BOUNCE_QUEUE_URL set by CloudFormation>' }
    expect(await problemsOf(() => packageRules(env, SERVICE, memoryFiles(FILES)))).toEqual([
      'BOUNCE_QUEUE_URL: expected a queue URL like https://sqs.us-east-1.amazonaws.com/123456789012/name',
    ])
    const packaged = await packageRules(env, SERVICE, memoryFiles(FILES), ['BOUNCE_QUEUE_URL'])
    expect(packaged.ruleNames).toEqual(['unknown-recipient', 'blocked'])
  })

  it('packages a compiled file again as it is', async () => {
    const packaged = await packageRules(ENV, SERVICE, memoryFiles(FILES))
    const again = await packageRules(
      { ...ENV, RULES_FILE: packaged.compiledName },
      SERVICE,
      memoryFiles({ [`${SERVICE}/${packaged.compiledName}`]: packaged.text }),
    )
    expect(again.compiledName).toBe(packaged.compiledName)
    expect(JSON.parse(again.text).rules).toEqual(JSON.parse(packaged.text).rules)
    expect(JSON.parse(again.text).patternFiles).toEqual(JSON.parse(packaged.text).patternFiles)
  })

  it('refuses compiled rules of a format this version does not read', async () => {
    const text = JSON.stringify({ compiledRules: { format: 2 }, rules: {}, patternFiles: {} })
    expect(
      await problemsOf(() =>
        loadConfig(
          { ...ENV, RULES_FILE: '/task/r.compiled.json' },
          memoryFiles({ '/task/r.compiled.json': text }),
        ),
      ),
    ).toEqual(['compiledRules.format: expected 1, got 2: package the rules again with this version'])
  })
})

describe('serverless/packaged-rules.cjs: the environment as CloudFormation will set it', () => {
  const conditions = {
    RulesFromS3: { 'Fn::Not': [{ 'Fn::Equals': ['acme-config', ''] }] },
    NoRulesBucket: { 'Fn::Equals': ['', ''] },
    Unknowable: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] },
  }

  it('evaluates Fn::If on conditions over plain values, and stands in for what only CloudFormation knows', () => {
    expect(
      environmentAtPackageTime(
        {
          RULES_FILE: { 'Fn::If': ['RulesFromS3', '', 'bounce-rules.yml'] },
          RULES_S3_URI: { 'Fn::If': ['RulesFromS3', 's3://acme-config/bounce-rules.yml', ''] },
          OTHER: { 'Fn::If': ['NoRulesBucket', 'yes', 'no'] },
          MAIL_BUCKET: { Ref: 'MailBucket' },
          RETRIES: 3,
        },
        conditions,
      ),
    ).toEqual({
      RULES_FILE: '',
      RULES_S3_URI: 's3://acme-config/bounce-rules.yml',
      OTHER: 'yes',
      MAIL_BUCKET: '<MAIL_BUCKET set by CloudFormation>',
      RETRIES: '3',
    })
  })

  it('leaves RULES_FILE unknown when the template decides it at deploy time', () => {
    expect(
      environmentAtPackageTime({ RULES_FILE: { 'Fn::If': ['Unknowable', 'a.yml', 'b.yml'] } }, conditions),
    ).toEqual({ RULES_FILE: undefined })
  })
})
