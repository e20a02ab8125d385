import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { type PaceHold, type SendPace, type SendSlotStore, TransientFailureError } from '../ports/index.js'

/**
 * How the account's SendBounce slot is shared. Safety comes from the order of events, not from
 * timers agreeing: a slot is taken only when the shared record says nobody holds it, its call
 * starts no earlier than the record's `nextAt`, and `nextAt` moves to one interval after the
 * holder's call has *returned*; so each call reaches SES at least one interval after the one
 * before it did, whichever instance makes it. A holder that dies mid-send frees the slot when its
 * lease runs out, and `sendBy` makes sure its call was over one interval before that.
 *
 * Speed comes from taking the next slot early: a waiter takes it while the interval runs, and
 * then only a timer stands between the end of the interval and its call.
 */
export interface PaceTiming {
  /** From the end of one SendBounce to the start of the next: 1 / rate. */
  readonly intervalMs: number
  /** How long a slot stays taken, from its start, when its holder never gives it back. */
  readonly leaseMs: number
  /** The pause after SES answered `Throttling`: something else in the account is calling SendBounce. */
  readonly throttledBackoffMs: number
  /** How often a waiter looks again while another holds the slot (well inside one interval). */
  readonly pollMs: number
}

/** `sendTimeoutMs`: the longest a SendBounce call may take before it is abandoned. */
export function paceTiming(ratePerSecond: number, sendTimeoutMs: number): PaceTiming {
  const intervalMs = Math.ceil(1000 / ratePerSecond)
  return {
    intervalMs,
    leaseMs: sendTimeoutMs + intervalMs,
    throttledBackoffMs: 5 * intervalMs,
    pollMs: Math.min(Math.max(Math.floor(intervalMs / 4), 10), 250),
  }
}

export interface SendPaceDeps {
  readonly store: SendSlotStore
  readonly timing: PaceTiming
  /** Epoch milliseconds; every instance's clock (Lambda's are synchronised by Amazon Time Sync). */
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

  const free = async (holder: string, nextAt: number) => {
    try {
      await store.release(holder, nextAt)
    } catch (error) {
      deps.onReleaseError?.(error)
    }
  }

  return {
    async acquire(signal: AbortSignal): Promise<PaceHold> {
      const holder = randomUUID()
      let startAt = clock()
      for (;;) {
        if (signal.aborted) throw noSlot(signal)
        const now = clock()
        startAt = Math.max(startAt, now)
        const claim = await store.claim(
          { holder, now, startAt, leaseUntil: startAt + timing.leaseMs },
          signal,
        )
        if (claim.claimed) break
        if (claim.heldUntil === undefined && claim.nextAt > startAt) {
          // Free, opening at nextAt: take it at once, for then.
          startAt = claim.nextAt
          continue
        }
        try {
          await wait(Math.max(Math.min(timing.pollMs, (claim.heldUntil ?? now) - now), 1), signal)
        } catch {
          throw noSlot(signal)
        }
      }
      try {
        const until = startAt - clock()
        if (until > 0) await wait(until, signal)
      } catch {
        // Taken but not used: the next may start when this one would have.
        await free(holder, startAt)
        throw noSlot(signal)
      }
      return {
        sendBy: startAt + timing.leaseMs - timing.intervalMs,
        release: (outcome) =>
          free(holder, clock() + (outcome === 'throttled' ? timing.throttledBackoffMs : timing.intervalMs)),
      }
    },
  }
}

function noSlot(signal: AbortSignal): TransientFailureError {
  return new TransientFailureError('no SendBounce slot came free before the deadline', {
    cause: signal.reason,
  })
}
