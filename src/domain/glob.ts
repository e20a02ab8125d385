/** Case-insensitive shell-style globs (`*`, `?`) for attachment names and content types. */
export interface Glob {
  readonly source: string
  test(text: string): boolean
}

const STAR = 0x2a
const QUESTION = 0x3f

/**
 * `*` is any run of characters (line breaks included), `?` one character (a UTF-16 code unit);
 * everything else stands for itself, case folded. No regular expression is involved: a sender
 * controls the names these run on, and a backtracking engine takes exponential time on a pattern
 * like `*a*a*a*a*b` (issue 14: 404 s for one 200-character name).
 */
export function compileGlob(source: string): Glob {
  const pattern = foldCase(source)
  return { source, test: (text) => wildcardMatch(pattern, foldCase(text)) }
}

/**
 * The greedy wildcard match with one resume point: on a mismatch, only the most recent `*` is
 * extended by one character, never an earlier one. That is enough for `*` and `?` (a later star
 * can absorb whatever an earlier one would have), so the work is at most the text's length times
 * the pattern's, with no backtracking beyond that one point.
 */
function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0
  let t = 0
  let star = -1
  let resume = 0
  while (t < text.length) {
    const code = pattern.charCodeAt(p)
    if (p < pattern.length && code === STAR) {
      star = p
      p += 1
      resume = t
    } else if (p < pattern.length && (code === QUESTION || code === text.charCodeAt(t))) {
      p += 1
      t += 1
    } else if (star !== -1) {
      p = star + 1
      resume += 1
      t = resume
    } else {
      return false
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === STAR) p += 1
  return p === pattern.length
}

/**
 * Case folding one code unit at a time, as a JavaScript `/i` regular expression without `u` folds
 * (ECMA-262 Canonicalize): the upper case of each unit when it is a single unit and does not take
 * a non-ASCII character to ASCII. Unlike `toLowerCase()` of the whole text, no character depends
 * on its neighbours (Greek final sigma) and the length never changes.
 */
function foldCase(text: string): string {
  let ascii = true
  for (let i = 0; i < text.length && ascii; i++) ascii = text.charCodeAt(i) < 0x80
  if (ascii) return text.toUpperCase()
  let folded = ''
  for (const unit of text.split('')) {
    const upper = unit.toUpperCase()
    folded += upper.length === 1 && !(unit.charCodeAt(0) >= 0x80 && upper.charCodeAt(0) < 0x80) ? upper : unit
  }
  return folded
}
