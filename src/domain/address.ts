/**
 * Mail addresses as the rules, the guards and the rate limits compare them: one key per mailbox
 * however the sender spelt it. Quoting that changes nothing is undone (`"victim"@…` is
 * `victim@…`, RFC 5321 §4.1.2: a quoted-pair stands for its character), case is folded, a
 * sub-address tag is removed (`user+tag@domain` is `user@domain`), a BATV-signed envelope sender
 * (`prvs=tag=user@domain`) is reduced to the address it signs, domains are compared in their
 * ASCII (IDNA) form, and an address literal is written one way per address.
 */
export interface Mailbox {
  /** Unquoted when it is a valid dot-string; otherwise quoted with only `"` and `\` escaped. */
  readonly local: string
  /** Lower-case ASCII: A-labels for internationalised names, a canonical `[literal]` for an address. */
  readonly domain: string
}

// Repeated, so that signing a signed address again buys no new key.
const BATV_PREFIX = /^(prvs=[0-9a-z]+=)+/
// RFC 5322 §3.2.3 atext, in dot-atom form (RFC 5321 §4.1.2 Dot-string); non-ASCII allowed as
// RFC 6531 (SMTPUTF8) does.
const ASCII_DOT_STRING = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/
const DOT_STRING =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+)*$/u

export function parseMailbox(raw: string): Mailbox | undefined {
  const parts = splitAddress(raw)
  if (parts === undefined) return undefined
  const local = withoutTag(parts.local.normalize('NFC').toLowerCase().replace(BATV_PREFIX, ''))
  const domain = normalizeDomain(parts.domain)
  // An empty label (`a@example..com`, `a@example.com..`) is no domain: no bounce can reach it.
  if (
    local === '' ||
    domain === '' ||
    domain.startsWith('.') ||
    domain.endsWith('.') ||
    domain.includes('..')
  )
    return undefined
  const plain = ASCII_DOT_STRING.test(local) || DOT_STRING.test(local)
  return { local: plain ? local : `"${local.replace(/["\\]/g, '\\$&')}"`, domain }
}

/**
 * Splits `local@domain` at the `@` that is outside quotes and outside an address literal, with the
 * local part's quoting and quoted-pairs undone. Angle brackets and an RFC 5321 §4.1.2 source route
 * (`@relay.example:user@domain`, which a receiver must accept and ignore) are removed first.
 */
function splitAddress(raw: string): { local: string; domain: string } | undefined {
  let text = raw.trim()
  if (text.startsWith('<') && text.endsWith('>')) text = text.slice(1, -1).trim()
  if (text.startsWith('@')) {
    const colon = text.indexOf(':')
    if (colon === -1) return undefined
    text = text.slice(colon + 1)
  }
  // No quoting and no literal, the common case: the last @ splits it.
  if (!text.includes('"') && !text.includes('[')) {
    const at = text.lastIndexOf('@')
    return at <= 0 || at === text.length - 1
      ? undefined
      : { local: text.slice(0, at), domain: text.slice(at + 1) }
  }
  let local = ''
  let at = -1
  let quoted = false
  let bracketed = false
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string
    if (quoted) {
      if (char === '\\' && index + 1 < text.length) local += text[++index]
      else if (char === '"') quoted = false
      else local += char
    } else if (char === '"' && at === -1) {
      quoted = true
    } else if (char === '[') {
      bracketed = true
    } else if (char === ']') {
      bracketed = false
    } else if (char === '@' && !bracketed) {
      // A later @ means this one belonged to the local part, as it does in `a@b@example.com`
      // spelt without quotes: keep the domain after the last one.
      if (at !== -1) local += `@${text.slice(at + 1, index)}`
      at = index
    } else if (at === -1) {
      local += char
    }
  }
  if (quoted || at <= 0 || at === text.length - 1) return undefined
  return { local, domain: text.slice(at + 1) }
}

/**
 * A domain in the one form every spelling of it shares: trimmed, one trailing dot removed, lower
 * case, internationalised names as A-labels (`bücher.example` is `xn--bcher-kva.example`, RFC 5890
 * with UTS #46 mapping), and an address literal (RFC 5321 §4.1.3) written canonically. Text that
 * is no valid name keeps its lower-cased NFC form, so a pattern and an address still meet.
 */
export function normalizeDomain(domain: string): string {
  const text = domain.trim().replace(/\.$/, '')
  if (text.startsWith('[')) return addressLiteral(text)
  // ASCII only: the common case needs no IDNA processing.
  if (/^[\x20-\x7e]*$/.test(text)) return text.toLowerCase()
  return idnaToAscii(text) ?? text.normalize('NFC').toLowerCase()
}

/**
 * UTS #46 ToASCII through the WHATWG URL parser, a global in Node.js and every runtime (no import
 * leaves the domain layer). Characters that would make the parser read another URL part are
 * refused first, so `a.example/x` can never become `a.example`.
 */
function idnaToAscii(text: string): string | undefined {
  if (/[\s/\\?#@:%[\]<>"^|]/u.test(text) || /[\p{Cc}]/u.test(text)) return undefined
  try {
    const host = new URL(`http://${text}/`).hostname
    return host === '' || host.startsWith('[') ? undefined : host
  } catch {
    return undefined
  }
}

const IPV4_LITERAL = /^\[(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\]$/

/** `[192.0.2.001]` is `[192.0.2.1]`; `[IPv6:2001:DB8:0::1]` is `[ipv6:2001:db8::1]`; one key per address. */
function addressLiteral(text: string): string {
  const ipv4 = IPV4_LITERAL.exec(text)
  if (ipv4 !== null) {
    const octets = ipv4.slice(1).map(Number)
    if (octets.every((octet) => octet <= 255)) return `[${octets.join('.')}]`
  }
  const ipv6 = /^\[ipv6:([0-9a-f:.]+)\]$/i.exec(text)
  if (ipv6 !== null) {
    try {
      const host = new URL(`http://[${ipv6[1]}]/`).hostname
      return `[ipv6:${host.slice(1, -1)}]`
    } catch {
      // Not an IPv6 address: fall through to the general form.
    }
  }
  return text.normalize('NFC').toLowerCase()
}

/** `user+tag` → `user`; a local part that starts with `+` has no user to fall back to and stays. */
function withoutTag(local: string): string {
  const plus = local.indexOf('+')
  return plus > 0 ? local.slice(0, plus) : local
}

export function formatMailbox(mailbox: Mailbox): string {
  return `${mailbox.local}@${mailbox.domain}`
}

/**
 * Why SES would never put this string in `receipt.recipients`, which holds envelope RCPT TO
 * addresses as bare `local@domain` (RFC 5321 §4.1.2 Forward-path without its angle brackets), or
 * `undefined` when it looks like one. Such a recipient is never bounced: SendBounce would refuse
 * it, and the other recipients' bounces with it.
 */
export function recipientProblem(recipient: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for
  if (/[\u0000-\u001f\u007f]/.test(recipient)) return 'control characters'
  const text = recipient.trim()
  if (text === '') return 'empty'
  if (text !== recipient) return 'white space'
  const open = text.indexOf('<')
  if (open > 0) return 'a display name'
  if (open === 0 || text.includes('>')) return 'angle brackets'
  if (/\s/.test(text) && !/^"[^"]*"@[^\s@]+$/.test(text)) return 'white space'
  const at = text.lastIndexOf('@')
  if (at === -1 || at === text.length - 1) return 'no domain'
  if (at === 0) return 'no local part'
  return undefined
}

/** The addresses RFC 5321 §4.5.5 and RFC 3834 §2 say must never receive an automatic reply. */
export function isNullSender(envelopeSender: string): boolean {
  const text = envelopeSender.trim()
  if (text === '' || text === '<>') return true
  const mailbox = parseMailbox(text)
  return mailbox === undefined || mailbox.local === 'mailer-daemon'
}

/** The keys an envelope sender's bounces are counted under: its mailbox, and its domain. */
export interface SenderKeys {
  readonly mailbox: string
  readonly domain: string
}

/**
 * One mailbox, one key: a BATV signature changes with every message, and quoting, case, a `+tag`
 * or the Unicode form of the domain do not change the mailbox, so counting raw strings would let
 * a sender spell its way past the limit. Text that is no address counts under itself.
 */
export function senderKeys(envelopeSender: string): SenderKeys {
  const mailbox = parseMailbox(envelopeSender)
  if (mailbox !== undefined) return { mailbox: formatMailbox(mailbox), domain: mailbox.domain }
  const text = envelopeSender.trim().toLowerCase()
  return { mailbox: text, domain: text.slice(text.lastIndexOf('@') + 1) }
}
