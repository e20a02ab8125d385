import { RE2JS } from 're2js'
import type { PatternEngine } from '../config/patterns.js'
import type { TextPattern } from '../domain/rules.js'

/**
 * `matches` runs on RE2JS, a pure-JavaScript port of RE2 (no native addon, no install script,
 * bundles with esbuild, Node 20 and 22). RE2 simulates an automaton instead of backtracking, so a
 * test takes time linear in the text (times the program's size) whatever the pattern: the issue's
 * `^(\w+\s?)+$` on a 51-character Subject ending in `!` takes under 3 ms, where JavaScript's
 * RegExp ran for minutes. The price is RE2's syntax: no backreferences and no lookaround, which
 * are exactly the constructs that need backtracking. This module is loaded only for rules files
 * that use `matches` (about 30 ms to load).
 */
export const re2PatternEngine: PatternEngine = {
  compile(source: string, flags: string): TextPattern {
    let compiled: RE2JS
    try {
      compiled = RE2JS.compile(source, re2Flags(flags))
    } catch (error) {
      throw new Error(explain((error as Error).message))
    }
    return {
      source,
      cost: compiled.programSize(),
      test: (text) => compiled.test(text),
    }
  },
}

function re2Flags(flags: string): number {
  let result = 0
  if (flags.includes('i')) result |= RE2JS.CASE_INSENSITIVE
  if (flags.includes('m')) result |= RE2JS.MULTILINE
  if (flags.includes('s')) result |= RE2JS.DOTALL
  // `u` changes nothing: RE2 always matches code points
  return result
}

/** RE2's parse error, naming the JavaScript constructs it refuses by what they are. */
function explain(message: string): string {
  const detail = message.replace(/^error parsing regexp: /, '')
  const why = 'matches runs in linear time, see docs/rules.md'
  if (/`\\([1-9]|k)/.test(detail)) return `RE2 syntax has no backreferences (\\1, \\k<name>): ${why}`
  if (/`\(\?<?[=!]/.test(detail)) {
    return `RE2 syntax has no lookahead or lookbehind ((?=, (?!, (?<=, (?<!): ${why}`
  }
  return `not valid RE2 syntax: ${detail}`
}
