import addressparser from 'nodemailer/lib/addressparser'

/** RFC 2047 encoded words, the only reason to load libmime (about 100 ms at cold start) here. */
const ENCODED_WORD = /=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=/

export function hasEncodedWord(value: string): boolean {
  return ENCODED_WORD.test(value)
}

/** RFC 5322 §2.2.3: a folded value unfolded (the CRLF before each continuation line removed). */
export function unfold(value: string): string {
  return value.replace(/\r?\n(?=[ \t])/g, '')
}

/** Decodes RFC 2047 encoded words; a value that cannot be decoded stays as it came. */
export async function decodeHeaderValue(value: string): Promise<string> {
  if (!ENCODED_WORD.test(value)) return value
  const { default: libmime } = await import('libmime')
  try {
    return libmime.decodeWords(value)
  } catch {
    return value
  }
}

/** The mailbox addresses of an address header value, groups flattened (RFC 5322 §3.4). */
export function addressesOf(value: string): string[] {
  const addresses: string[] = []
  const visit = (entries: ReturnType<typeof addressparser>): void => {
    for (const entry of entries) {
      if ('group' in entry && Array.isArray(entry.group)) visit(entry.group)
      else if ('address' in entry && entry.address) addresses.push(entry.address)
    }
  }
  visit(addressparser(value))
  return addresses
}

/**
 * The From addresses read: the first 16 KiB of the field (addressparser costs about 1 µs a byte;
 * real mail has one mailbox, and 16 KiB holds hundreds), as Postfix keeps the first
 * header_address_token_limit tokens of an address header.
 */
export const FROM_BYTES_LIMIT = 16 * 1024

/** The addresses in the first FROM_BYTES_LIMIT bytes of a From value; `cut` when more followed. */
export function fromAddressesCapped(value: string): { addresses: string[]; cut: boolean } {
  if (value.length <= FROM_BYTES_LIMIT) return { addresses: addressesOf(value), cut: false }
  // cut where an address ends: a comma outside an address; a partial address is never read
  const head = value.slice(0, FROM_BYTES_LIMIT)
  return { addresses: addressesOf(head.slice(0, Math.max(head.lastIndexOf(','), 0))), cut: true }
}
