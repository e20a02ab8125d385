import { readFileSync } from 'node:fs'
import { resolveBeside } from '../config/load-config.js'
import { AddressSet, PatternError } from '../domain/address-set.js'
import type { GuardName, RecipientDecision } from '../domain/decision.js'
import type { Evidence } from '../domain/rules.js'

/** Evidence as the command line reports it: the domain's values, and the list file's line. */
export type ReportedEvidence = Evidence & { readonly line?: number }

/**
 * Finds the line of a pattern file that holds an address, for `check` and `replay` only: the
 * function keeps no line numbers (a 100,000-entry list would pay for them on every cold start).
 */
export class ListLines {
  private readonly files = new Map<string, readonly string[] | undefined>()
  /**
   * The line per list and matched entry: the entry is one of the list's own patterns, normalised,
   * so the first line that yields it is the same for every address it matched (`replay` asks for
   * the same few entries message after message, in lists of 100,000 lines).
   */
  private readonly found = new Map<string, number | undefined>()

  constructor(private readonly rulesFile: string) {}

  lineOf(list: string, address: string, entry: string): number | undefined {
    const key = `${list}\u0000${entry}`
    if (!this.found.has(key)) this.found.set(key, this.search(list, address, entry))
    return this.found.get(key)
  }

  private search(list: string, address: string, entry: string): number | undefined {
    const lines = this.linesOf(list)
    if (lines === undefined) return undefined
    for (let index = 0; index < lines.length; index++) {
      const pattern = lines[index]?.trim() ?? ''
      if (pattern === '' || pattern.startsWith('#')) continue
      try {
        if (AddressSet.of([pattern]).match(address) === entry) return index + 1
      } catch (error) {
        if (!(error instanceof PatternError)) throw error
      }
    }
    return undefined
  }

  private linesOf(list: string): readonly string[] | undefined {
    if (!this.files.has(list)) {
      let lines: string[] | undefined
      try {
        lines = readFileSync(resolveBeside(this.rulesFile, list), 'utf8')
          .replace(/^\uFEFF/, '')
          .split('\n')
      } catch {
        lines = undefined
      }
      this.files.set(list, lines)
    }
    return this.files.get(list)
  }

  /** The decision's evidence with list lines added. */
  evidenceOf(decision: RecipientDecision): ReportedEvidence[] {
    return (decision.evidence ?? []).map((evidence) => {
      if (evidence.kind !== 'address' || evidence.list === undefined || evidence.entry === undefined) {
        return evidence
      }
      const [address] = evidence.addresses
      const line = address === undefined ? undefined : this.lineOf(evidence.list, address, evidence.entry)
      return line === undefined ? evidence : { ...evidence, line }
    })
  }
}

const FIELD_NAMES = { recipient: 'recipient', sender: 'envelope sender', from: 'From address' } as const

/** One line per piece of evidence, in the operator's words. */
export function describeEvidence(evidence: ReportedEvidence): string {
  switch (evidence.kind) {
    case 'address': {
      const field = FIELD_NAMES[evidence.field]
      const list = evidence.list ?? "the rule's list"
      if (evidence.negate) {
        const addresses = evidence.addresses.length === 0 ? '(none)' : evidence.addresses.join(', ')
        return `${field} ${addresses} is not in ${list}`
      }
      const where = evidence.line === undefined ? list : `${list} line ${evidence.line}`
      return `${field} ${evidence.addresses.join(', ')} is in ${where}: ${quote(evidence.entry ?? '')}`
    }
    case 'verdict':
      return `${VERDICT_LABELS[evidence.verdict]} verdict ${evidence.status}`
    case 'dmarcPolicy':
      return `DMARC policy of the From domain: ${evidence.policy}`
    case 'size':
      return `message size ${count(evidence.sizeBytes)} bytes is over ${count(evidence.overBytes)}`
    case 'attachment': {
      const name =
        evidence.filename === undefined
          ? 'attachment without a name'
          : `attachment ${quote(evidence.filename)}`
      const matched = [
        evidence.filenameGlob === undefined ? undefined : `name matches ${quote(evidence.filenameGlob)}`,
        evidence.contentTypeGlob === undefined
          ? undefined
          : `type matches ${quote(evidence.contentTypeGlob)}`,
      ].filter((part) => part !== undefined)
      return `${name} (${evidence.contentType}): ${matched.join(', ')}`
    }
    case 'header': {
      if (evidence.value === undefined) return `header ${headerName(evidence.name)} is absent`
      const test = evidence.test === 'exists' ? 'is present' : evidence.test
      return `header ${headerName(evidence.name)} ${test}: ${excerpt(evidence.value, evidence.span)}`
    }
  }
}

const VERDICT_LABELS = { spam: 'spam', virus: 'virus', spf: 'SPF', dkim: 'DKIM', dmarc: 'DMARC' } as const

const GUARDS: Readonly<Record<GuardName, string>> = {
  nullSender: 'the envelope sender is empty or MAILER-DAEMON: a bounce would go nowhere or loop',
  autoSubmitted: 'the message is automatic (Auto-Submitted, or itself a report): bouncing it risks a loop',
  spam: 'SES judged it spam: its sender is most likely forged',
  virus: 'SES found a virus: its sender is most likely forged',
  forgedSender: 'SPF fails for MAIL FROM: the envelope sender is most likely forged',
  unverifiedSender: 'neither SPF nor a DKIM signature of its domain vouches for the envelope sender',
  rate: 'this sender was bounced too often in the last hour',
  domainRate: "this sender's domain was bounced too often in the last hour",
}

/** Why a safety guard turned the bounce into a drop. */
export function describeGuard(guard: string): string {
  const why = GUARDS[guard as GuardName] as string | undefined
  return `safety guard ${guard} turned the bounce into a silent drop: ${why ?? 'a bounce would be backscatter'}`
}

const EXCERPT_CONTEXT = 30

/** The value around the part that matched, the part in [brackets]. */
function excerpt(value: string, span?: readonly [number, number]): string {
  if (span === undefined)
    return quote(value.length > 2 * EXCERPT_CONTEXT ? `${value.slice(0, 2 * EXCERPT_CONTEXT)}…` : value)
  const [start, end] = span
  const before = value.slice(Math.max(0, start - EXCERPT_CONTEXT), start)
  const after = value.slice(end, end + EXCERPT_CONTEXT)
  return quote(
    `${start > EXCERPT_CONTEXT ? '…' : ''}${before}[${value.slice(start, end)}]${after}${end + EXCERPT_CONTEXT < value.length ? '…' : ''}`,
  )
}

function headerName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => `${dash}${letter.toUpperCase()}`)
}

function quote(text: string): string {
  return `"${text}"`
}

function count(bytes: number): string {
  return bytes.toLocaleString('en-US')
}
