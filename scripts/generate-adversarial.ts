/**
 * `npm run adversarial -- <dir> [--min-size 10M]`: writes the adversarial messages of issue 14
 * (test/fixtures/adversarial/cases.ts) into <dir> as SES would store them (<messageId>.eml), an
 * SES receipt event for each (<case>.json), and the rules they are decided by (bounce-rules.yml,
 * onUnreadable: continue; bounce-rules-bouncing.yml, onUnreadable bouncing). Try one as a user
 * would:
 *
 *   MAIL_DIR=<dir> RULES_FILE=<dir>/bounce-rules.yml npx serverless invoke local -f bounce -p <dir>/<case>.json
 *   npx ses-bouncer check <dir>/adversarial.<case>.eml --rules <dir>/bounce-rules.yml --recipient alice@example.com
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { parseSize } from '../src/config/compile-rules.js'
import {
  ADVERSARIAL_RULES,
  ADVERSARIAL_RULES_BOUNCING,
  adversarialCases,
} from '../test/fixtures/adversarial/cases.js'
import { sesEventForMessage } from '../test/support/hostile.js'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'min-size': { type: 'string', default: '0' } },
})
const [target] = positionals
if (target === undefined || positionals.length > 1) {
  console.error('usage: npm run adversarial -- <dir> [--min-size 10M]')
  process.exit(2)
}
const dir = resolve(target)
const minBytes = parseSize(values['min-size'] ?? '0')
await mkdir(dir, { recursive: true })
await writeFile(join(dir, 'bounce-rules.yml'), ADVERSARIAL_RULES)
await writeFile(join(dir, 'bounce-rules-bouncing.yml'), ADVERSARIAL_RULES_BOUNCING)
for (const adversarial of adversarialCases()) {
  const messageId = `adversarial.${adversarial.name}`
  const bytes = adversarial.bytes(minBytes)
  await writeFile(join(dir, `${messageId}.eml`), bytes)
  await writeFile(
    join(dir, `${adversarial.name}.json`),
    `${JSON.stringify(sesEventForMessage(messageId, bytes), null, 2)}\n`,
  )
  console.log(
    `${adversarial.name.padEnd(28)} ${String(bytes.length).padStart(10)} bytes  expected ${adversarial.expected}`,
  )
}
console.log(`\nwritten to ${dir}; e.g.
  MAIL_DIR=${dir} RULES_FILE=${dir}/bounce-rules.yml npx serverless invoke local -f bounce -p ${dir}/nesting-8000.json`)
