import { isNullSender, normalizeDomain, parseMailbox } from './address.js'
import { parseAuthenticationResults, propertyDomain } from './authentication-results.js'
import type { MissingFacts } from './decide.js'
import type { GuardName } from './decision.js'
import { headerValues, type MessageFacts } from './message.js'

export interface SafetySettings {
  readonly nullSender: boolean
  readonly autoSubmitted: boolean
  readonly spam: boolean
  readonly virus: boolean
  /** SPF FAIL for MAIL FROM: the sending host is not allowed to use the sender's domain. */
  readonly forgedSender: boolean
  /** Bounce only to a MAIL FROM that SPF passed or an aligned DKIM signature vouches for. */
  readonly unverifiedSender: boolean
  /** Bounces to one envelope sender (mailbox) per hour before further ones become drops (guard `rate`). */
  readonly maxBouncesPerSender: number
  /** Bounces to one envelope sender domain per hour before further ones become drops (guard `domainRate`). */
  readonly maxBouncesPerSenderDomain: number
}

export const DEFAULT_SAFETY: SafetySettings = {
  nullSender: true,
  autoSubmitted: true,
  spam: true,
  virus: true,
  forgedSender: true,
  unverifiedSender: true,
  maxBouncesPerSender: 10,
  maxBouncesPerSenderDomain: 50,
}

/** The authserv-id of the Authentication-Results field SES adds to every message it scans. */
export const SES_AUTHSERV_ID = 'amazonses.com'

/**
 * Which guard forbids bouncing this message, if any. Every SendBounce is a post-acceptance bounce
 * (receipt rules run after SMTP), so a bounce to a forged or automatic sender is backscatter:
 * RFC 5321 §4.5.5 and §6.2 (bounce only when "confident that those messages will be usefully
 * delivered"), RFC 3834 §2, Postfix BACKSCATTER_README. The bounce goes to MAIL FROM, so the
 * forgery guards judge MAIL FROM: SPF, which checks exactly that identity (RFC 7208 §2.4), and a
 * DKIM signature of its domain. DMARC judges the From header, another identity, and has no say.
 */
export function safetyGuard(
  safety: SafetySettings,
  facts: MessageFacts,
): GuardName | { needs: MissingFacts } | undefined {
  const { message } = facts
  if (safety.nullSender && isNullSender(message.envelopeSender)) return 'nullSender'
  if (safety.spam && message.verdicts.spam === 'FAIL') return 'spam'
  if (safety.virus && message.verdicts.virus === 'FAIL') return 'virus'
  // RFC 7208 §2.6.4: "fail" is "an explicit statement that the client is not authorized to use
  // the domain in the given identity".
  if (safety.forgedSender && message.verdicts.spf === 'FAIL') return 'forgedSender'
  if (safety.unverifiedSender) {
    const verified = senderVerified(facts)
    if (verified === undefined) return { needs: 'content' }
    if (!verified) return 'unverifiedSender'
  }
  if (safety.autoSubmitted) {
    const automatic = isAutomatic(facts)
    if (automatic === undefined) return { needs: 'content' }
    if (automatic) return 'autoSubmitted'
  }
  return undefined
}

/**
 * MAIL FROM is verified when SPF passed for it (RFC 7208 §2.6.2: "the client is authorized to
 * inject mail with the given identity"), or when a DKIM signature passed whose signing domain is
 * the MAIL FROM domain or a parent of it: whoever controls a domain's DNS controls its subdomains,
 * so that alignment holds without the Public Suffix List (stricter than DMARC's relaxed mode,
 * RFC 7489 §3.1.1, which would also accept a sibling). SES's dkimVerdict does not say which domain
 * signed; its Authentication-Results field does. `undefined`: that field is beyond the truncated
 * headers, so the stored message must settle it.
 */
export function senderVerified(facts: MessageFacts): boolean | undefined {
  const { message } = facts
  if (message.verdicts.spf === 'PASS') return true
  if (message.verdicts.dkim !== 'PASS') return false
  const mailbox = parseMailbox(message.envelopeSender)
  if (mailbox === undefined) return false
  const values = headerValues(facts, 'authentication-results')
  if (values === undefined) return undefined
  return dkimSigningDomains(values).some(
    (domain) => mailbox.domain === domain || mailbox.domain.endsWith(`.${domain}`),
  )
}

/**
 * The domains of the DKIM signatures SES found valid. Only SES's own field counts: the topmost
 * one (a receiver prepends its header fields, RFC 5321 §4.4), and only with SES's authserv-id.
 * Fields further down came with the message, and anyone can write `amazonses.com; dkim=pass` into
 * a message they send (RFC 8601 §5 and §7.1: trust only fields your own boundary added). The
 * caller asks only when SES's dkimVerdict is PASS, so SES did check and did add its field.
 */
function dkimSigningDomains(values: readonly string[]): string[] {
  const [first] = values
  const parsed = first === undefined ? undefined : parseAuthenticationResults(first)
  if (parsed?.authservId !== SES_AUTHSERV_ID) return []
  return parsed.results
    .filter((result) => result.method === 'dkim' && result.result === 'pass')
    .map((result) => propertyDomain(result.properties.get('header.d') ?? result.properties.get('header.i')))
    .filter((domain): domain is string => domain !== undefined)
    .map(normalizeDomain)
    .filter((domain) => domain !== '')
}

/** RFC 3834 §2: Auto-Submitted other than `no`; RFC 3464/6522: the message is itself a report. */
function isAutomatic(facts: MessageFacts): boolean | undefined {
  const autoSubmitted = headerValues(facts, 'auto-submitted')
  const contentType = headerValues(facts, 'content-type')
  if (autoSubmitted?.some((value) => !/^\s*no\s*(;|\(|$)/i.test(value))) return true
  if (contentType?.some((value) => /^\s*multipart\/report\b/i.test(value))) return true
  if (autoSubmitted === undefined || contentType === undefined) return undefined
  return false
}
