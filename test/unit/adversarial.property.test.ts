// Properties of issue 14, over generated adversarial input: matching that cannot backtrack, work
// bounded by the budget whatever the pattern, and limits that never turn an attachment rule off.

import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MESSAGE_LIMITS, parseMessage } from '../../src/adapters/mime-parser.js'
import type { ScannerLimits } from '../../src/adapters/mime-scanner.js'
import { re2PatternEngine } from '../../src/adapters/re2-pattern-engine.js'
import { decide } from '../../src/domain/decide.js'
import { compileGlob } from '../../src/domain/glob.js'
import {
  evaluateCondition,
  HEADER_MATCH_LIMIT,
  isUnsettled,
  MATCH_BUDGET,
  MAX_PATTERN_COST,
  type TextPattern,
} from '../../src/domain/rules.js'
import { facts, header, receivedMessage, ruleSetFromYaml, rulesYaml } from './support/builders.js'

const RUNS = Number(process.env.PROPERTY_RUNS ?? 200)

/** The glob as a regular expression, as it was compiled before (the reference semantics). */
function regexGlob(source: string): RegExp {
  const body = Array.from(source, (char) => {
    if (char === '*') return '.*'
    if (char === '?') return '.'
    return char.replace(/[\\^$.|+()[\]{}]/g, '\\$&')
  }).join('')
  return new RegExp(`^${body}$`, 'is')
}

describe('globs: the wildcard matcher', () => {
  const unit = fc.constantFrom(
    'a',
    'b',
    'A',
    '.',
    'é',
    'É',
    'ß',
    'σ',
    'ς',
    'Σ',
    'ı',
    'I',
    'K',
    '\u212a',
    '\n',
    '日',
  )
  const text = fc.array(unit, { maxLength: 12 }).map((units) => units.join(''))
  const glob = fc
    .array(fc.oneof(unit, fc.constantFrom('*', '?', '*')), { maxLength: 8 })
    .map((units) => units.join(''))

  it('says what the regular expression it replaced said, case folding included', () => {
    fc.assert(
      fc.property(glob, text, (source, name) => {
        expect(compileGlob(source).test(name)).toBe(regexGlob(source).test(name))
      }),
      { numRuns: RUNS * 20 },
    )
  })

  it('answers the patterns that made a RegExp backtrack for minutes', () => {
    // issue 14: 404 s for one test as a RegExp; cubic growth on invoice2024…
    expect(compileGlob('*a*a*a*a*a*a*a*b').test('a'.repeat(200))).toBe(false)
    expect(compileGlob('*a*a*a*a*a*a*a*b').test(`${'a'.repeat(200)}b`)).toBe(true)
    expect(compileGlob('*invoice*2024*.exe').test(`${'invoice2024'.repeat(2000)}.pdf`)).toBe(false)
    expect(compileGlob('*invoice*2024*.exe').test(`${'invoice2024'.repeat(2000)}.EXE`)).toBe(true)
  })
})

/** Patterns of nested quantifiers and alternations: the shapes that make backtracking explode. */
const nastyPattern = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'pattern' },
    fc.constantFrom('a', 'b', '.', '\\w', '\\s', '[ab]', '\\p{L}', '(?i:A)'),
    fc
      .tuple(tie('node'), fc.constantFrom('*', '+', '?', '{1,5}', '*?'))
      .map(([inner, q]) => `(?:${inner})${q}`),
    fc.tuple(tie('node'), tie('node')).map(([x, y]) => `${x}${y}`),
    fc.tuple(tie('node'), tie('node')).map(([x, y]) => `(?:${x}|${y})`),
  ),
})).node

const adversarialValue = fc.oneof(
  fc.integer({ min: 0, max: HEADER_MATCH_LIMIT + 2 }).map((n) => `${'a'.repeat(n)}!`),
  fc.integer({ min: 0, max: 4000 }).map((n) => `${'ab '.repeat(n)}b`),
  fc.constantFrom(`${'aaaa '.repeat(10)}!`, `${'a'.repeat(4096)}b`, 'é日本'.repeat(3000), ''),
)

describe('matches: adversarial patterns against values at the limits', () => {
  it('never tests more than the budget, and what it could not test is unsettled, not false', () => {
    fc.assert(
      fc.property(
        fc.tuple(nastyPattern, fc.constantFrom('', 'i', 's')),
        fc.array(adversarialValue, { minLength: 1, maxLength: 12 }),
        ([source, flags], values) => {
          const compiled = re2PatternEngine.compile(`^${source}$`, flags)
          fc.pre(compiled.cost <= MAX_PATTERN_COST)
          let work = 0
          let tested = 0
          const counting: TextPattern = {
            source,
            cost: compiled.cost,
            test: (text) => {
              work += text.length * compiled.cost
              tested += 1
              return compiled.test(text)
            },
          }
          const f = facts(receivedMessage({ headers: values.map((value) => header('X-Note', value)) }))
          const truth = evaluateCondition(
            { kind: 'header', name: 'x-note', test: { kind: 'matches', pattern: counting } },
            'alice@example.com',
            f,
          )
          expect(work).toBeLessThanOrEqual(MATCH_BUDGET)
          if (truth === false) expect(tested).toBe(values.length)
          if (isUnsettled(truth)) expect(tested).toBeLessThan(values.length)
        },
      ),
      { numRuns: RUNS },
    )
  })
})

describe('limits never turn an attachment rule off', () => {
  const set = ruleSetFromYaml(
    rulesYaml(`
  - name: no-executables
    when: { attachment: { filename: ["*.exe"] } }
    bounce: { type: ContentRejected }`),
  )

  /** A multipart tree of `depth` levels and `parts` leaves a level, evil.exe as leaf number `at`. */
  function message(depth: number, parts: number, at: number, fieldPadding: number): Buffer {
    let leaf = 0
    const level = (d: number): string[] => {
      const b = `=_${d}`
      const lines = [`Content-Type: multipart/mixed; boundary="${b}"`, '']
      for (let i = 0; i < parts; i++) {
        lines.push(`--${b}`)
        if (d < depth && i === 0) lines.push(...level(d + 1))
        else {
          const name = leaf++ === at ? 'evil.exe' : `doc-${leaf}.pdf`
          lines.push(
            `Content-Type: application/pdf; name="${name}"; x="${'p'.repeat(fieldPadding)}"`,
            '',
            'x',
          )
        }
      }
      lines.push(`--${b}--`)
      return lines
    }
    return Buffer.from(['From: m@attacker.example', 'Subject: nested', ...level(1), ''].join('\r\n'))
  }

  it('an .exe read before a limit bounces; one a limit hid is unsettled, never accepted by the rules', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        fc.nat(40),
        fc.nat(300),
        fc.record({
          maxDepth: fc.integer({ min: 1, max: 9 }),
          maxParts: fc.integer({ min: 2, max: 50 }),
          maxFieldBytes: fc.integer({ min: 60, max: 400 }),
          maxStructuredBytes: fc.integer({ min: 200, max: 20_000 }),
        }),
        async (depth, parts, at, fieldPadding, small) => {
          const bytes = message(depth, parts, at, fieldPadding)
          const limits: ScannerLimits = { ...MESSAGE_LIMITS, ...small }
          const whole = await parseMessage(Readable.from([bytes]), AbortSignal.timeout(10_000), bytes.length)
          const limited = await parseMessage(
            Readable.from([bytes]),
            AbortSignal.timeout(10_000),
            bytes.length,
            limits,
          )
          const decideOn = (c: typeof whole) => {
            const outcome = decide(
              set.rules,
              set.safety,
              facts(receivedMessage(), { content: c }),
              set.onUnreadable,
            )
            if (outcome.kind !== 'decided') throw new Error('not decided')
            const [d] = outcome.decisions
            return `${d?.action}:${d?.rule ?? ''}`
          }
          const full = decideOn(whole)
          const cut = decideOn(limited)
          // what was read before the limit is what the whole read found, in order
          expect(whole.attachments.slice(0, limited.attachments.length).map((a) => a.filename)).toEqual(
            limited.attachments.map((a) => a.filename),
          )
          if (limited.cutOff === undefined) expect(cut).toBe(full)
          else if (full === 'bounce:no-executables')
            expect(['bounce:no-executables', 'accept:onUnreadable']).toContain(cut)
          if (cut === 'accept:') expect(limited.cutOff).toBeUndefined()
          if (limited.attachments.some((a) => a.filename === 'evil.exe'))
            expect(cut).toBe('bounce:no-executables')
        },
      ),
      { numRuns: RUNS },
    )
  })
})
