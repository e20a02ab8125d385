/**
 * Mail addresses as the rules compare them: case-insensitive, sub-address tags removed
 * (`user+tag@domain` is `user@domain`), and BATV-signed envelope senders
 * (`prvs=tag=user@domain`) reduced to the address they sign.
 */
export interface Mailbox {
  readonly local: string
  readonly domain: string
}

const BATV_PREFIX = /^prvs=[0-9a-z]+=/

export function parseMailbox(raw: string): Mailbox | undefined {
  let text = raw.trim()
  if (text.startsWith('<') && text.endsWith('>')) text = text.slice(1, -1).trim()
  const at = text.lastIndexOf('@')
  if (at <= 0 || at === text.length - 1) return undefined
  const local = text.slice(0, at).normalize('NFC').toLowerCase().replace(BATV_PREFIX, '')
  const domain = normalizeDomain(text.slice(at + 1))
  if (local === '' || domain === '') return undefined
  return { local: withoutTag(local), domain }
}

export function normalizeDomain(domain: string): string {
  return domain.trim().normalize('NFC').toLowerCase().replace(/\.$/, '')
}

/** `user+tag` → `user`; a local part that starts with `+` has no user to fall back to and stays. */
function withoutTag(local: string): string {
  const plus = local.indexOf('+')
  return plus > 0 ? local.slice(0, plus) : local
}

export function formatMailbox(mailbox: Mailbox): string {
  return `${mailbox.local}@${mailbox.domain}`
}

/** The addresses RFC 5321 §4.5.5 and RFC 3834 §2 say must never receive an automatic reply. */
export function isNullSender(envelopeSender: string): boolean {
  const text = envelopeSender.trim()
  if (text === '' || text === '<>') return true
  const mailbox = parseMailbox(text)
  return mailbox === undefined || mailbox.local === 'mailer-daemon'
}
