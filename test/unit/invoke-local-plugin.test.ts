import { mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'

type Environment = Record<string, unknown>
interface Plugin {
  hooks: Record<string, () => void>
}

const InvokeLocal = createRequire(import.meta.url)('../../serverless/invoke-local.cjs') as new (
  serverless: unknown,
  options: unknown,
) => Plugin

/** The parts of the Framework the plugin uses, for `serverless invoke local -f bounce`. */
function framework(
  environment: Environment,
  options: Record<string, unknown> = {},
  { stage = 'local', conditions = {} as Record<string, unknown> } = {},
) {
  const fn = { environment: { ...environment } }
  const serverless = {
    processedInput: { commands: ['invoke', 'local'] },
    serviceDir: '/project',
    service: {
      provider: { stage, environment: {} },
      resources: { Conditions: conditions },
      getFunction: () => fn,
    },
    utils: { readFileSync: (path: string) => JSON.parse(readFileSync(path, 'utf8')) },
    classes: { Error },
  }
  const plugin = new InvokeLocal(serverless, { function: 'bounce', stage, ...options })
  return { fn, plugin }
}

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('serverless/invoke-local.cjs', () => {
  it('works out Fn::If from the template conditions, so a real stage runs locally', () => {
    const conditions = { RulesFromS3: { 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] } }
    const { fn, plugin } = framework(
      {
        RULES_FILE: { 'Fn::If': ['RulesFromS3', '', 'bounce-rules.yml'] },
        RULES_S3_URI: { 'Fn::If': ['RulesFromS3', 's3://b/bounce-rules.yml', ''] },
      },
      {},
      { stage: 'dev', conditions },
    )
    plugin.hooks.initialize?.()
    expect(fn.environment).toEqual({ RULES_FILE: 'bounce-rules.yml', RULES_S3_URI: '' })
  })

  it('never looks up in the stack a value given with -e, and names what it cannot work out', () => {
    const { fn, plugin } = framework(
      { MAIL_BUCKET: { Ref: 'MailBucket' }, MAIL_PREFIX: 'inbound/' },
      { env: ['MAIL_BUCKET=mine'] },
    )
    plugin.hooks.initialize?.()
    expect(fn.environment).toEqual({ MAIL_PREFIX: 'inbound/' })

    const unknown = framework({ X: { 'Fn::If': ['Nope', 'a', 'b'] } })
    expect(() => unknown.plugin.hooks.initialize?.()).toThrow(
      'invoke local cannot work out X (condition Nope is not defined): give it with -e X=…',
    )
  })

  it('keeps -e NAME= as an empty value, resolves relative paths from the project root', () => {
    vi.stubEnv('MAIL_DIR=', '')
    vi.stubEnv('MAIL_DIR', 'events')
    vi.stubEnv('RULES_FILE', 'rules/mine.yml')
    vi.stubEnv('AWS_ENDPOINT_URL_SES', '')
    vi.stubEnv('AWS_ACCESS_KEY_ID', '')
    const { plugin } = framework({}, { env: ['MAIL_DIR=', 'RULES_FILE=rules/mine.yml'] })
    plugin.hooks['after:invoke:local:loadEnvVars']?.()
    expect(process.env.MAIL_DIR).toBe('')
    expect(process.env).not.toHaveProperty('MAIL_DIR=')
    expect(process.env.RULES_FILE).toBe('/project/rules/mine.yml')
    // Stage local reaches no AWS: SES goes to npm run local-ses, with placeholder credentials.
    expect(process.env.AWS_ENDPOINT_URL_SES).toBe('http://127.0.0.1:4579')
    expect(process.env.AWS_ACCESS_KEY_ID).toBe('local')
  })

  it('on stage local keeps an SES endpoint and credentials that are set', () => {
    vi.stubEnv('AWS_ENDPOINT_URL_SES', 'http://127.0.0.1:9999')
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAREAL')
    vi.stubEnv('RULES_FILE', '/etc/rules.yml')
    const { plugin } = framework({})
    plugin.hooks['after:invoke:local:loadEnvVars']?.()
    expect(process.env.AWS_ENDPOINT_URL_SES).toBe('http://127.0.0.1:9999')
    expect(process.env.AWS_ACCESS_KEY_ID).toBe('AKIAREAL')
    expect(process.env.RULES_FILE).toBe('/etc/rules.yml')
  })

  it('reads the message an event from `ses-bouncer event` names, unless -e says where mail is', () => {
    const directory = mkdtempSync(join(tmpdir(), 'invoke-local-'))
    const message = join(directory, 'abc123.eml')
    writeFileSync(message, 'To: a@example.com\r\n\r\nhi\r\n')
    const event = (id: string, file: string) => {
      const path = join(directory, `${id}.json`)
      writeFileSync(
        path,
        JSON.stringify({
          Records: [{ ses: { mail: { messageId: id } } }],
          sesBouncerLocal: { messageFile: file },
        }),
      )
      return path
    }
    const local = framework(
      { MAIL_DIR: 'events', MAIL_BUCKET: { Ref: 'MailBucket' }, MAIL_PREFIX: 'p/' },
      {
        path: event('abc123', message),
      },
    )
    local.plugin.hooks.initialize?.()
    expect(local.fn.environment).toEqual({ MAIL_DIR: directory })

    const renamed = framework({ MAIL_DIR: 'events' }, { path: event('other-id', message) })
    renamed.plugin.hooks.initialize?.()
    const linked = String(renamed.fn.environment.MAIL_DIR)
    expect(readlinkSync(join(linked, 'other-id.eml'))).toBe(message)

    const bucket = framework(
      { MAIL_DIR: 'events' },
      { path: event('abc123', message), env: ['MAIL_BUCKET=b'] },
    )
    bucket.plugin.hooks.initialize?.()
    expect(bucket.fn.environment).toEqual({ MAIL_DIR: 'events' })

    const missing = framework({}, { path: event('abc123', join(directory, 'gone.eml')) })
    expect(() => missing.plugin.hooks.initialize?.()).toThrow(
      /names .*gone\.eml as its message, which does not exist/,
    )
  })
})
