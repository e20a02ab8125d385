import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { type PaceHold, type SendPace, type SendSlotStore, TransientFailureError } from '../ports/index.js'

/**
 * How the account's SendBounce slot is shared. Safety comes from the order of events, not from
 * timers agreeing: a slot is taken only when the shared record says it is free, and it frees one
 * interval after the holder's call has *returned*, so the next call can only reach SES at least
 * one interval after the previous one did, whichever instance makes it. A holder that dies
 * mid-send frees the slot when its lease runs out; `sendBy` makes sure its call was over by then.
 */
export interface PaceTiming {
  /** From the end of one SendBounce to the start of the next: 1 / rate. */
  readonly intervalMs: number
  /** How long a slot stays taken when its holder never gives it back. */
  readonly leaseMs: number
  /** The pause after SES answered `Throttling`: something else in the account is calling SendBounce. */
  readonly throttledBackoffMs: number
  /** How often a waiter looks again while a send is under way (its end is not known in advance). */
  readonly pollMs: number
}

/** `sendTimeoutMs`: the longest a SendBounce call may take before it is abandoned. */
export function paceTiming(ratePerSecond: number, sendTimeoutMs: number): PaceTiming {
  const intervalMs = Math.ceil(1000 / ratePerSecond)
  return {
    intervalMs,
    leaseMs: sendTimeoutMs + intervalMs,
    throttledBackoffMs: 5 * intervalMs,
    pollMs: Math.min(Math.max(Math.floor(intervalMs / 10), 10), 100),
  }
}

export interface SendPaceDeps {
  readonly store: SendSlotStore
  readonly timing: PaceTiming
  /** Epoch milliseconds; every instance's clock (Lambda's are NTP-synchronised). */
  readonly clock?: () => number
  /** Waits `ms` or rejects when `signal` aborts (tests pass a virtual clock's). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  /** A release that failed: the slot then frees when its lease runs out, later but safely. */
  readonly onReleaseError?: (error: unknown) => void
}

export function makeSendPace(deps: SendPaceDeps): SendPace {
  const { store, timing } = deps
  const clock = deps.clock ?? Date.now
  const wait = deps.sleep ?? ((ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal }))

  return {
    async acquire(signal: AbortSignal): Promise<PaceHold> {
      const holder = randomUUID()
      for (;;) {
        if (signal.aborted) throw noSlot(signal)
        const now = clock()
        const claim = await store.claim(holder, now, now + timing.leaseMs, signal)
        if (claim.claimed) {
          return {
            sendBy: now + timing.leaseMs - timing.intervalMs,
            async release(outcome) {
              const pause = outcome === 'throttled' ? timing.throttledBackoffMs : timing.intervalMs
              try {
                await store.release(holder, clock() + pause)
              } catch (error) {
                deps.onReleaseError?.(error)
              }
            },
          }
        }
        const untilFree = claim.nextAt - now
        try {
          await wait(Math.max(claim.held ? Math.min(untilFree, timing.pollMs) : untilFree, 1), signal)
        } catch {
          throw noSlot(signal)
        }
      }
    },
  }
}

function noSlot(signal: AbortSignal): TransientFailureError {
  return new TransientFailureError('no SendBounce slot came free before the deadline', {
    cause: signal.reason,
  })
}
