import { createHmac } from 'node:crypto'
import { Logger } from '@aws-lambda-powertools/logger'
import type { LogAddresses } from '../config/log-addresses.js'
import { formatMailbox, parseMailbox } from '../domain/address.js'
import { SERVICE_NAME } from './service.js'

/** What a log line shows in place of an address. */
export interface AddressRedactor {
  /** False for `full`: nothing to replace. */
  readonly redacts: boolean
  /** A value that is one address as a whole (a recipient, a sender), display name included. */
  address(value: string): string
  /** Any other text: every address in it is replaced, the rest is kept. */
  text(value: string): string
}

/** Log fields whose whole value is one address (the decision line, the SendBounce request). */
const ADDRESS_FIELDS = new Set(['sender', 'recipient', 'Recipient', 'FinalRecipient', 'BounceSender'])

// An addr-spec inside free text (RFC 5322 §3.4.1; RFC 6531 lets local parts and domains be UTF-8):
// a dot-atom or quoted local part, then a domain of two labels or more, or an address literal.
const ADDRESS_IN_TEXT =
  /(?:"[^"\r\n]*"|[\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-]+)@(?:[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+|\[[0-9A-Fa-f:.]+\])/gu

/** `Name <addr>` and `<addr>` name the mailbox `addr`. */
const BRACKETED = /<([^<>]*)>\s*$/

/** Length of a token: 96 bits of HMAC-SHA256, as hex. */
const TOKEN_HEX_LENGTH = 24

/**
 * One mailbox, one form: lower case, NFC, no `+tag`, no BATV signature (domain/address.ts, the
 * same comparison the rules use), so that every spelling of a mailbox gets the same token.
 */
export function normalizeAddress(value: string): string {
  const inner = BRACKETED.exec(value)?.[1] ?? value
  const mailbox = parseMailbox(inner)
  return mailbox === undefined ? inner.trim().normalize('NFC').toLowerCase() : formatMailbox(mailbox)
}

/** The token `LOG_ADDRESSES=hash` logs for an address; `ses-bouncer hash-address` prints it. */
export function addressToken(value: string, key: string): string {
  const digest = createHmac('sha256', key).update(normalizeAddress(value), 'utf8').digest('hex')
  return `hmac:${digest.slice(0, TOKEN_HEX_LENGTH)}`
}

/** `undefined` (an invalid setting) withholds every address: the operator asked for less, not more. */
export function addressRedactor(settings: LogAddresses | undefined): AddressRedactor {
  if (settings?.mode === 'full') return { redacts: false, address: (value) => value, text: (value) => value }
  const replace = (value: string): string => {
    if (settings === undefined) return '[address withheld]'
    if (settings.mode === 'hash') return addressToken(value, settings.key)
    const domain = parseMailbox(BRACKETED.exec(value)?.[1] ?? value)?.domain
    return domain === undefined ? '…' : `…@${domain}`
  }
  // An empty or null reverse-path (`""`, `<>`) names nobody and says something: it stays.
  const address = (value: string): string =>
    value.trim() === '' || value.trim() === '<>' ? value : replace(value)
  return {
    redacts: true,
    address,
    text: (value) => value.replace(ADDRESS_IN_TEXT, (match) => replace(match)),
  }
}

/**
 * Powertools' JSON replacer for every log line: address fields are replaced whole, any other
 * string has the addresses in it replaced (error messages and stacks included). The objects
 * logged are not touched, so the SendBounce request that is sent keeps its addresses.
 */
export function redactingReplacer(redactor: AddressRedactor): (key: string, value: unknown) => unknown {
  return (key, value) => {
    if (typeof value !== 'string') return value
    return ADDRESS_FIELDS.has(key) ? redactor.address(value) : redactor.text(value)
  }
}

/** The functions' logger: every line goes through the address redaction the settings ask for. */
export function serviceLogger(redactor: AddressRedactor): Logger {
  return new Logger({
    serviceName: SERVICE_NAME,
    ...(redactor.redacts ? { jsonReplacerFn: redactingReplacer(redactor) } : {}),
  })
}
