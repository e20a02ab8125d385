import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, posix } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type WorkCopy, workCopy } from '../../scripts/work-copy.js'
import { type DynamoServer, startDynamo } from '../support/dynamo-server.js'
import { EVENTS_DIR, expectedOutcomes, messageBytes, receiptCases, receiptEvent } from '../support/events.js'
import { AN_ADDRESS, type LogLine } from '../support/lambda.js'
import {
  extractZip,
  importClosure,
  PACKAGE_TIMEOUT_MS,
  packageIn,
  runPackaged,
  staticImportClosure,
  unzip,
} from '../support/packaging.js'
import { type S3Server, startS3Server } from '../support/s3-server.js'
import { type SesStub, startSesStub } from '../support/ses-stub.js'

/**
 * What `npm run package` ships, opened and run as Lambda runs it: the rules checked and compiled
 * (serverless/packaged-rules.cjs), each function's zip holding the code its handler loads and
 * nothing else (serverless/esbuild.cjs), and the bounce function deciding real messages from its
 * extracted zip in a bare `node`, with no node_modules within reach.
 */

/** Relative module specifiers of static imports and of import(). */
const IMPORTS = /(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g

const BUCKET = 'inbound-mail'
const PREFIX = 'inbound/'
const TABLE = 'ses-bouncer-dev-state'

const copies: WorkCopy[] = []
let valid: { root: string; output: string }
let invalid: string

/** The sample rules (events/) as the package's own, with their pattern files beside them at the root. */
function withSampleRules(copy: WorkCopy): void {
  for (const file of ['bounce-rules.yml', 'mailboxes.txt', 'blocked-senders.txt']) {
    cpSync(join(EVENTS_DIR, file), join(copy.root, file))
  }
  rmSync(join(copy.root, 'lists'), { recursive: true, force: true })
}

beforeAll(async () => {
  const validCopy = workCopy()
  const invalidCopy = workCopy()
  copies.push(validCopy, invalidCopy)
  withSampleRules(validCopy)
  writeFileSync(
    join(invalidCopy.root, 'bounce-rules.yml'),
    [
      'bounceSender: not-an-address',
      'rules:',
      '  - name: big',
      '    when: { size: { over: 10X } }',
      '    bounce: { type: MessageTooLarge }',
      '',
    ].join('\n'),
  )
  const [packaged, failed] = await Promise.all([packageIn(validCopy), packageIn(invalidCopy)])
  const output = (result: { stdout: string; stderr: string }) => `${result.stdout}\n${result.stderr}`
  if (packaged.code !== 0) throw new Error(`npm run package failed:\n${output(packaged)}`)
  valid = { root: validCopy.root, output: output(packaged) }
  if (failed.code === 0) throw new Error('npm run package succeeded with an invalid rules file')
  invalid = output(failed)
  expect(existsSync(join(invalidCopy.root, '.serverless', 'bounce.zip'))).toBe(false)
}, PACKAGE_TIMEOUT_MS)

afterAll(() => {
  for (const copy of copies) copy.remove()
})

const artifact = (name: string) => join(valid.root, '.serverless', `${name}.zip`)

describe('npm run package: rules checked before they ship', () => {
  it('stops on an invalid rules file, listing every problem, and packages nothing', () => {
    expect(invalid).toContain('bounce: bounce-rules.yml is not valid, nothing was packaged')
    expect(invalid).toContain('Invalid configuration (2 problems)')
    expect(invalid).toContain('bounceSender (line 1, column 1): expected an address')
    expect(invalid).toContain('rules[0] "big" when.size.over (line 4, column 21): expected a size like 10M')
    expect(invalid).toContain('npx ses-bouncer validate')
  })

  it('ships the rules compiled, with every pattern file they name, wherever it lives', () => {
    expect(valid.output).toContain(
      'bounce: bounce-rules.yml checked, 7 rules, pattern files blocked-senders.txt, mailboxes.txt; packaged as bounce-rules.compiled.json',
    )
    const files = unzip(readFileSync(artifact('bounce')))
    const compiled = JSON.parse(files.get('bounce-rules.compiled.json')?.toString() ?? '{}')
    expect(compiled.compiledRules).toMatchObject({ format: 1, source: 'bounce-rules.yml' })
    expect(Object.keys(compiled.patternFiles).sort()).toEqual(['blocked-senders.txt', 'mailboxes.txt'])
    expect(compiled.patternFiles['mailboxes.txt']).toBe(
      readFileSync(join(EVENTS_DIR, 'mailboxes.txt'), 'utf8'),
    )
    // Only the compiled file: nothing the function would read instead of it.
    expect([...files.keys()].filter((name) => !name.startsWith('handlers/'))).toEqual([
      'bounce-rules.compiled.json',
    ])
    // Written into the service only for the packager, and removed again.
    expect(existsSync(join(valid.root, 'bounce-rules.compiled.json'))).toBe(false)
  })

  it('gives each function its own code and every file that code imports, nothing else', () => {
    const template = JSON.parse(
      readFileSync(join(valid.root, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'),
    )
    const functions = Object.values(template.Resources as Record<string, { Type: string; Properties: never }>)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map(({ Properties }) => Properties as { Handler: string; Code: { S3Key: string } })
    expect(functions.length).toBeGreaterThanOrEqual(3)
    for (const { Handler, Code } of functions) {
      const name = posix.basename(Code.S3Key, '.zip')
      const entry = Handler.slice(0, Handler.lastIndexOf('.'))
      const files = unzip(readFileSync(artifact(name)))
      const code = [...files.keys()].filter((file) => file.startsWith('handlers/'))
      expect(
        code.filter(
          (file) =>
            file !== 'handlers/package.json' &&
            file !== `${entry}.js` &&
            file !== `${entry}.js.map` &&
            !file.startsWith(`${entry}.chunks/`),
        ),
        name,
      ).toEqual([])
      expect(JSON.parse(files.get('handlers/package.json')?.toString() ?? '{}')).toEqual({ type: 'module' })
      // Every module the code imports, statically or with import(), is in the zip.
      const missing: string[] = []
      for (const file of code.filter((file) => file.endsWith('.js'))) {
        const text = files.get(file)?.toString() ?? ''
        for (const [, specifier = ''] of text.matchAll(IMPORTS)) {
          const target = posix.normalize(posix.join(posix.dirname(file), specifier))
          if (!files.has(target)) missing.push(`${file} → ${target}`)
        }
      }
      expect(missing, name).toEqual([])
      // And every chunk in the zip is one the code imports: none left over from another build.
      const reachable = new Set(importClosure(files, `${entry}.js`, IMPORTS))
      expect(
        code.filter((file) => file.endsWith('.js') && !reachable.has(file)),
        name,
      ).toEqual([])
    }
  })

  it('compiles at cold start only the event path: no YAML parser, MIME code or AWS SDK client', () => {
    const files = unzip(readFileSync(artifact('bounce')))
    const eager = staticImportClosure(files, 'handlers/bounce.js')
    const text = (names: Iterable<string>) =>
      [...names].map((name) => (name.endsWith('.js') ? (files.get(name)?.toString() ?? '') : '')).join('\n')
    // Class names minification keeps (keepNames): each marks its package's code.
    const loadedOnFirstUse = [
      'YAMLParseError',
      'MessageSplitter',
      'GetObjectCommand',
      'SendBounceCommand',
      'PutItemCommand',
    ]
    for (const marker of loadedOnFirstUse) {
      expect(text(files.keys()), `${marker} is in the zip`).toContain(marker)
      expect(text(eager), `${marker} is not imported at cold start`).not.toContain(marker)
    }
    expect(eager.length).toBeLessThan(files.size / 4)
  })
})

describe('the packaged bounce function, run from its zip as Lambda runs it', () => {
  let s3: S3Server
  let ses: SesStub
  let dynamo: DynamoServer
  let directory: string

  beforeAll(async () => {
    ;[s3, ses, dynamo] = await Promise.all([
      startS3Server({ buckets: [BUCKET] }),
      startSesStub(),
      startDynamo({ tables: [{ name: TABLE, partitionKey: 'id' }] }),
    ])
    // Under the system's temp directory: no node_modules above it, so the handler has only its zip.
    directory = mkdtempSync(join(tmpdir(), 'ses-bouncer-task-'))
    extractZip(artifact('bounce'), directory)
  })

  afterAll(async () => {
    await Promise.all([s3?.close(), ses?.close(), dynamo?.close()])
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true })
  })

  it('decides the sample messages as the sources do, loading S3, MIME, SES and DynamoDB code from the zip', async () => {
    const cases = ['executable-attachment', 'unknown-recipient', 'accepted', 'oversized', 'blocked-sender']
    for (const name of cases) {
      const { messageId } = expectedOutcomes[name] ?? {}
      if (messageId === undefined) throw new Error(name)
      await s3.putObject(BUCKET, `${PREFIX}${messageId}`, messageBytes(messageId))
    }
    const template = JSON.parse(
      readFileSync(join(valid.root, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'),
    )
    const variables = template.Resources.BounceLambdaFunction.Properties.Environment.Variables
    const run = await runPackaged(
      directory,
      template.Resources.BounceLambdaFunction.Properties.Handler,
      cases.map((name) => receiptEvent(name)),
      {
        PATH: dirname(process.execPath),
        // As deployed, but for the values CloudFormation fills in: the bucket is the local one.
        ...Object.fromEntries(Object.entries(variables).filter(([, value]) => typeof value === 'string')),
        MAIL_BUCKET: BUCKET,
        MAIL_PREFIX: PREFIX,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ENDPOINT_URL_S3: s3.url,
        AWS_ENDPOINT_URL_SES: ses.url,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
        AWS_LAMBDA_FUNCTION_NAME: 'ses-bouncer-dev-bounce',
      },
    )
    expect(variables.RULES_FILE).toBe('bounce-rules.compiled.json')
    expect(run.results).toEqual(
      cases.map((name) => ({
        result: { disposition: expectedOutcomes[name]?.disposition },
        ms: expect.any(Number),
        cpuMs: expect.any(Number),
      })),
    )
    // executable-attachment, unknown-recipient and oversized bounce: each once, claimed in DynamoDB.
    expect(ses.requestsFor('SendBounce').map((request) => request.params.OriginalMessageId)).toEqual(
      ['executable-attachment', 'unknown-recipient', 'oversized'].map(
        (name) => expectedOutcomes[name]?.messageId,
      ),
    )
    expect(run.stdout).not.toContain('refusing to start')
  })

  it('decides every sample event as expected from the zip, and with LOG_ADDRESSES=hash logs no address', async () => {
    const names = receiptCases()
    const run = await runPackaged(
      directory,
      'handlers/bounce.handler',
      names.map((name) => receiptEvent(name)),
      {
        PATH: dirname(process.execPath),
        RULES_FILE: 'bounce-rules.compiled.json',
        MAIL_DIR: EVENTS_DIR,
        DRY_RUN: 'true',
        LOG_ADDRESSES: 'hash',
        LOG_ADDRESS_KEY: 'packaged-test-key-0123456789abcdef0123',
        AWS_REGION: 'us-east-1',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_LAMBDA_FUNCTION_NAME: 'ses-bouncer-dev-bounce',
      },
    )
    expect(run.results.map((outcome) => outcome.result)).toEqual(
      names.map(() => ({ disposition: 'CONTINUE' })),
    )
    const lines = `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => line.startsWith('{'))
    expect(lines.length).toBeGreaterThan(names.length)
    for (const line of lines) expect(line).not.toMatch(AN_ADDRESS)
    const logged = lines.map((line) => JSON.parse(line) as LogLine)
    for (const name of names) {
      const expected = expectedOutcomes[name]
      if (expected?.problems !== undefined) {
        expect(logged.find((line) => Array.isArray(line.problems))?.problems, name).toEqual(expected.problems)
        continue
      }
      const decided = logged.find((line) => line.messageId === expected?.messageId && 'recipients' in line)
      expect(
        (
          decided?.recipients as { action: string; rule: string | null; guard: string | null }[] | undefined
        )?.map(({ action, rule, guard }) => ({ action, rule, guard })),
        name,
      ).toEqual(
        Object.values(expected?.recipients ?? {}).map(({ action, rule, guard }) => ({ action, rule, guard })),
      )
    }
  })
})
