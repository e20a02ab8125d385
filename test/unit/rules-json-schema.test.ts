import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Ajv2020 from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { RulesFileSchema, rulesJsonSchema } from '../../src/config/rules-schema.js'

const root = join(import.meta.dirname, '..', '..')
const committed = JSON.parse(readFileSync(join(root, 'bounce-rules.schema.json'), 'utf8'))
const ajv = new Ajv2020.default({ allErrors: true, strict: false })
const validateWithJsonSchema = ajv.compile(committed)

const rule = { name: 'r', bounce: { type: 'DoesNotExist' } }
const withRule = (extra: Record<string, unknown>) => ({ rules: [{ ...rule, ...extra }] })

const invalidFiles: Record<string, unknown> = {
  'an unknown top-level key': { rules: [], bounceSendr: 'a@b.example' },
  'no rules list': { bounceSender: 'a@b.example' },
  'an unknown mode': { mode: 'maybe', rules: [] },
  'a rule with two actions': withRule({ drop: true }),
  'a rule with no action': { rules: [{ name: 'r' }] },
  'drop: false': { rules: [{ name: 'r', drop: false }] },
  'a bad rule name': { rules: [{ name: 'has space', accept: true }] },
  'an unknown bounce type': withRule({ bounce: { type: 'Nope' } }),
  'a status that is not a failure': withRule({ bounce: { type: 'Undefined', status: '2.0.0' } }),
  'a size without a number': withRule({ when: { size: { over: 'big' } } }),
  'a size with an unknown unit': withRule({ when: { size: { over: '10G' } } }),
  'an address condition with two lists': withRule({
    when: { recipient: { in: ['a@b.example'], notIn: ['c@d.example'] } },
  }),
  'an empty address condition': withRule({ when: { sender: {} } }),
  'an empty pattern list': withRule({ when: { from: { in: [] } } }),
  'an empty verdict condition': withRule({ when: { verdict: {} } }),
  'an unknown verdict status': withRule({ when: { verdict: { spam: 'MAYBE' } } }),
  'an unknown dmarc policy': withRule({ when: { dmarcPolicy: 'block' } }),
  'a header condition with two tests': withRule({
    when: { header: { name: 'X-A', exists: true, equals: 'b' } },
  }),
  'a header condition with no test': withRule({ when: { header: { name: 'X-A' } } }),
  'an empty attachment condition': withRule({ when: { attachment: {} } }),
  'an unknown condition': withRule({ when: { subject: 'x' } }),
  'an extension field name with a space': { rules: [], extensionFields: { 'X Bad': 'v' } },
  'an extension field value with a newline': { rules: [], extensionFields: { 'X-Ok': 'a\nb' } },
  'a zero bounce limit': { rules: [], safety: { maxBouncesPerSender: 0 } },
  'an unknown safety guard': { rules: [], safety: { paranoid: true } },
}

const validFiles: Record<string, unknown> = {
  'the sample rules': parseYaml(readFileSync(join(root, 'events', 'bounce-rules.yml'), 'utf8')),
  'the starter rules': parseYaml(readFileSync(join(root, 'bounce-rules.yml'), 'utf8')),
  'every condition at once': withRule({
    when: {
      recipient: { notInFile: 'mailboxes.txt' },
      sender: { in: ['*@*.example'] },
      from: { notIn: ['a@b.example'] },
      verdict: { spam: ['PASS', 'GRAY'], dmarc: 'FAIL' },
      dmarcPolicy: ['quarantine', 'reject'],
      size: { over: 1024 },
      attachment: { filename: ['*.exe'], contentType: ['application/*'] },
      header: { name: 'Subject', matches: '/invoice/i' },
    },
  }),
  'JSON with a $schema key': { $schema: './bounce-rules.schema.json', mode: 'dry-run', rules: [] },
}

describe('bounce-rules.schema.json', () => {
  it('is generated from the zod schema the function validates with (npm run schema)', () => {
    expect(committed).toEqual(rulesJsonSchema())
  })

  it.each(Object.entries(validFiles))('accepts %s, as zod does', (_name, document) => {
    expect(RulesFileSchema.safeParse(document).success).toBe(true)
    expect(validateWithJsonSchema(document), JSON.stringify(validateWithJsonSchema.errors)).toBe(true)
  })

  it.each(Object.entries(invalidFiles))('rejects %s, as zod does', (_name, document) => {
    expect(RulesFileSchema.safeParse(document).success).toBe(false)
    expect(validateWithJsonSchema(document)).toBe(false)
  })
})
