import addressparser from 'nodemailer/lib/addressparser'

/** RFC 2047 encoded words, the only reason to load libmime (about 100 ms at cold start) here. */
const ENCODED_WORD = /=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=/

export function hasEncodedWord(value: string): boolean {
  return ENCODED_WORD.test(value)
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
