/**
 * The Authentication-Results header field (RFC 8601): who checked (`authserv-id`) and, per method,
 * the result and its properties (`dkim=pass header.d=example.com`). Parsed leniently, as real
 * verifiers write it: SES adds items that are no method at all (`client-ip=…; envelope-from=…`),
 * comments may stand anywhere (§2.2 CFWS), values may be quoted. An item that cannot be read is
 * skipped, never the whole field; the parse is one linear pass over at most the first 16 KB.
 */
export interface AuthenticationResult {
  /** Lower-case method name, without a version (`dkim`, `spf`, `dmarc`, …). */
  readonly method: string
  /** Lower-case result (`pass`, `fail`, `none`, …). */
  readonly result: string
  /** `ptype.property` (lower-case) → value, as written (quotes removed). */
  readonly properties: ReadonlyMap<string, string>
}

export interface AuthenticationResults {
  /** Lower-case; the ADMD that added the field (RFC 8601 §2.5). */
  readonly authservId: string
  readonly results: readonly AuthenticationResult[]
}

const MAX_LENGTH = 16 * 1024

type Token = { readonly kind: 'word'; readonly text: string } | { readonly kind: ';' | '=' }

export function parseAuthenticationResults(value: string): AuthenticationResults | undefined {
  const groups = splitAtSemicolons(tokenize(value.slice(0, MAX_LENGTH)))
  const [head = [], ...items] = groups
  const authservId = head[0]?.kind === 'word' ? head[0].text.toLowerCase() : undefined
  if (authservId === undefined || authservId === '') return undefined
  const results: AuthenticationResult[] = []
  for (const item of items) {
    const result = resultOf(item)
    if (result !== undefined) results.push(result)
  }
  return { authservId, results }
}

/** `method[/version] = result *(ptype.property = value)`; anything else in the item is skipped. */
function resultOf(tokens: readonly Token[]): AuthenticationResult | undefined {
  const [method] = tokens
  if (method?.kind !== 'word') return undefined
  // A version may follow the method, with white space around its "/" (RFC 8601 §2.2).
  let at = 1
  const next = tokens[at]
  if (method.text.endsWith('/')) at += 1
  else if (next?.kind === 'word' && next.text.startsWith('/')) at += next.text === '/' ? 2 : 1
  const [equals, result] = [tokens[at], tokens[at + 1]]
  if (equals?.kind !== '=' || result?.kind !== 'word') return undefined
  const properties = new Map<string, string>()
  for (let index = at + 2; index + 2 < tokens.length; index++) {
    const [key, sign, text] = [tokens[index], tokens[index + 1], tokens[index + 2]]
    if (key?.kind === 'word' && sign?.kind === '=' && text?.kind === 'word') {
      const name = key.text.toLowerCase()
      if (!properties.has(name)) properties.set(name, text.text)
      index += 2
    }
  }
  return {
    method: (method.text.split('/', 1)[0] ?? '').toLowerCase(),
    result: result.text.toLowerCase(),
    properties,
  }
}

function splitAtSemicolons(tokens: readonly Token[]): Token[][] {
  const groups: Token[][] = [[]]
  for (const token of tokens) {
    if (token.kind === ';') groups.push([])
    else groups.at(-1)?.push(token)
  }
  return groups.filter((group) => group.length > 0)
}

/**
 * Words, `;` and `=`; white space and (nested) comments dropped; quoted strings become words with
 * their quoted-pairs undone. An unterminated comment or quote ends the field.
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let index = 0
  while (index < text.length) {
    const char = text[index] as string
    if (char === ';' || char === '=') {
      tokens.push({ kind: char })
      index++
    } else if (char === '(') {
      index = afterComment(text, index)
    } else if (char === '"') {
      let word = ''
      index++
      while (index < text.length && text[index] !== '"') {
        if (text[index] === '\\') index++
        word += text[index] ?? ''
        index++
      }
      index++
      tokens.push({ kind: 'word', text: word })
    } else if (/\s/.test(char)) {
      index++
    } else {
      const start = index
      while (index < text.length && !/[\s;=("]/.test(text[index] as string)) index++
      tokens.push({ kind: 'word', text: text.slice(start, index) })
    }
  }
  return tokens
}

/** The index after the comment that opens at `start`, nesting and quoted-pairs included. */
function afterComment(text: string, start: number): number {
  let depth = 0
  let index = start
  while (index < text.length) {
    const char = text[index]
    if (char === '\\') index++
    else if (char === '(') depth++
    else if (char === ')' && --depth === 0) return index + 1
    index++
  }
  return index
}

/** The domain a `header.d` (`domain`) or `header.i` (`[local]@domain`) property names. */
export function propertyDomain(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const domain = value.slice(value.lastIndexOf('@') + 1).trim()
  return domain === '' ? undefined : domain
}
