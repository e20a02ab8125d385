import { isNullSender } from './address.js'
import type { MissingFacts } from './decide.js'
import type { GuardName } from './decision.js'
import { headerValues, type MessageFacts } from './message.js'

export interface SafetySettings {
  readonly nullSender: boolean
  readonly autoSubmitted: boolean
  readonly spam: boolean
  readonly virus: boolean
  readonly forgedSender: boolean
  /** Bounces to one envelope sender per hour before further ones become drops (guard `rate`). */
  readonly maxBouncesPerSender: number
}

export const DEFAULT_SAFETY: SafetySettings = {
  nullSender: true,
  autoSubmitted: true,
  spam: true,
  virus: true,
  forgedSender: true,
  maxBouncesPerSender: 10,
}

/**
 * Which guard forbids bouncing this message, if any. Every SendBounce is a post-acceptance bounce
 * (receipt rules run after SMTP), so a bounce to a forged or automatic sender is backscatter:
 * RFC 5321 §4.5.5 and §6.2, RFC 3834 §2, Postfix BACKSCATTER_README.
 */
export function safetyGuard(
  safety: SafetySettings,
  facts: MessageFacts,
): GuardName | { needs: MissingFacts } | undefined {
  const { message } = facts
  if (safety.nullSender && isNullSender(message.envelopeSender)) return 'nullSender'
  if (safety.spam && message.verdicts.spam === 'FAIL') return 'spam'
  if (safety.virus && message.verdicts.virus === 'FAIL') return 'virus'
  if (safety.forgedSender && message.verdicts.spf === 'FAIL' && message.verdicts.dmarc === 'FAIL') {
    return 'forgedSender'
  }
  if (safety.autoSubmitted) {
    const automatic = isAutomatic(facts)
    if (automatic === undefined) return { needs: 'content' }
    if (automatic) return 'autoSubmitted'
  }
  return undefined
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
