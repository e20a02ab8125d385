/** `npm run schema`: writes bounce-rules.schema.json from the zod schema the function validates with. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { rulesJsonSchema } from '../src/config/rules-schema.js'

const target = join(import.meta.dirname, '..', 'bounce-rules.schema.json')
writeFileSync(target, `${JSON.stringify(rulesJsonSchema(), null, 2)}\n`)
console.log(`wrote ${target}`)
