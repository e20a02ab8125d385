import { normalizeDomain, parseMailbox } from './address.js'
import { BouncerError } from './errors.js'

export class PatternError extends BouncerError {}

/**
 * A set of address patterns answered by hash lookups, so a 100,000-entry list costs the same per
 * recipient as a 3-entry one: exact `user@domain`, whole domains `*@domain`, and any subdomain
 * `*@*.domain` (one lookup per label of the address's domain).
 */
export class AddressSet {
  private readonly addresses = new Set<string>()
  private readonly domains = new Set<string>()
  private readonly parentDomains = new Set<string>()

  static of(patterns: Iterable<string>): AddressSet {
    const set = new AddressSet()
    for (const pattern of patterns) set.add(pattern)
    return set
  }

  get size(): number {
    return this.addresses.size + this.domains.size + this.parentDomains.size
  }

  /** Throws PatternError for text that is none of the three pattern forms. */
  add(pattern: string): void {
    const text = pattern.trim()
    if (text.startsWith('*@*.')) {
      this.parentDomains.add(requireDomain(text.slice(4), pattern))
    } else if (text.startsWith('*@')) {
      this.domains.add(requireDomain(text.slice(2), pattern))
    } else {
      const mailbox = /[*\s]/.test(text) ? undefined : parseMailbox(text)
      if (mailbox === undefined) throw invalidPattern(pattern)
      this.addresses.add(`${mailbox.local}@${requireDomain(mailbox.domain, pattern)}`)
    }
  }

  has(address: string): boolean {
    return this.match(address) !== undefined
  }

  /** The entry that holds `address`, as the set keeps it (`user@domain`, `*@domain`, `*@*.domain`). */
  match(address: string): string | undefined {
    const mailbox = parseMailbox(address)
    if (mailbox === undefined) return undefined
    const { local, domain } = mailbox
    const exact = `${local}@${domain}`
    if (this.addresses.has(exact)) return exact
    if (this.domains.has(domain)) return `*@${domain}`
    if (this.parentDomains.size === 0) return undefined
    for (let dot = domain.indexOf('.'); dot !== -1; dot = domain.indexOf('.', dot + 1)) {
      const parent = domain.slice(dot + 1)
      if (this.parentDomains.has(parent)) return `*@*.${parent}`
    }
    return undefined
  }
}

/** An empty label (`*@.example.com`, `a@example..com`) or a space could never match an address:
 *  a typo the operator must hear about at load time rather than a rule that silently never fires. */
function requireDomain(text: string, pattern: string): string {
  const domain = normalizeDomain(text)
  if (domain === '' || /[\s@*<>]/.test(domain) || domain.split('.').includes(''))
    throw invalidPattern(pattern)
  return domain
}

function invalidPattern(pattern: string): PatternError {
  return new PatternError(`"${pattern}" is not a pattern like user@domain, *@domain or *@*.domain`)
}
