import { describe, expect, it } from 'vitest'
import { MemorySlotStore } from '../../src/adapters/memory-slot-store.js'
import { makeSendPace, type PaceTiming, paceTiming } from '../../src/app/send-pace.js'
import { type SendPace, TransientFailureError } from '../../src/ports/index.js'

/**
 * A virtual clock: `sleep` parks a timer, `run` lets every promise settle and then jumps to the
 * next timer, so the pace's waits take no real time and every interleaving is reproducible.
 */
class VirtualTime {
  now = 1_000_000
  private timers: { at: number; resolve: () => void }[] = []

  readonly clock = () => this.now

  readonly sleep = (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason)
      const onAbort = () => {
        this.timers = this.timers.filter((t) => t !== timer)
        reject(signal.reason)
      }
      const timer = {
        at: this.now + ms,
        resolve: () => {
          signal.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      this.timers.push(timer)
      signal.addEventListener('abort', onAbort, { once: true })
    })

  /** An AbortSignal that aborts at virtual time `at`. */
  signalAt(at: number): AbortSignal {
    const controller = new AbortController()
    this.timers.push({ at, resolve: () => controller.abort(new Error('deadline')) })
    return controller.signal
  }

  async run<T>(work: Promise<T>): Promise<T> {
    let done = false
    const settled = work.finally(() => {
      done = true
    })
    settled.catch(() => undefined)
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve))
      if (done) return settled
      const next = Math.min(...this.timers.map((timer) => timer.at))
      if (!Number.isFinite(next)) throw new Error('deadlock: nothing to wait for')
      this.now = Math.max(this.now, next)
      const due = this.timers.filter((timer) => timer.at <= this.now)
      this.timers = this.timers.filter((timer) => timer.at > this.now)
      for (const timer of due) timer.resolve()
    }
  }
}

const forever = () => new AbortController().signal

interface Send {
  readonly instance: number
  readonly start: number
  readonly end: number
}

/** `instances` senders sharing one slot store, each making `sends` calls that take `latencyMs`. */
async function race(
  time: VirtualTime,
  timing: PaceTiming,
  instances: number,
  sends: number,
  latencyMs: number,
) {
  const store = new MemorySlotStore()
  const log: Send[] = []
  const sender = async (instance: number) => {
    // Each instance its own pace object, as each Lambda instance builds its own; the store is shared.
    const pace = makeSendPace({ store, timing, clock: time.clock, sleep: time.sleep })
    for (let i = 0; i < sends; i++) {
      const hold = await pace.acquire(forever())
      const start = time.now
      await time.sleep(latencyMs, forever())
      log.push({ instance, start, end: time.now })
      await hold.release('sent')
    }
  }
  await time.run(Promise.all(Array.from({ length: instances }, (_, instance) => sender(instance))))
  return log.sort((a, b) => a.start - b.start)
}

describe('the shared SendBounce pace', () => {
  it('derives its timing from the rate and the longest a call may take', () => {
    expect(paceTiming(1, 8_000)).toEqual({
      intervalMs: 1000,
      leaseMs: 9000,
      throttledBackoffMs: 5000,
      pollMs: 250,
    })
    expect(paceTiming(14, 8_000).intervalMs).toBe(72)
    expect(paceTiming(0.5, 8_000).intervalMs).toBe(2000)
  })

  it('starts each call at least one interval after the previous one returned, whichever instance makes it', async () => {
    const time = new VirtualTime()
    const timing = paceTiming(1, 8_000)
    const sends = await race(time, timing, 5, 4, 40)

    expect(sends).toHaveLength(20)
    expect(new Set(sends.map((send) => send.instance)).size).toBe(5)
    for (let i = 1; i < sends.length; i++) {
      const previous = sends[i - 1] as Send
      const send = sends[i] as Send
      // Never sooner; and no later either: the next holder took the slot while the interval ran.
      expect(send.start - previous.end).toBe(timing.intervalMs)
    }
  })

  it('frees a slot whose holder never gave it back when the lease runs out, after the holder’s sendBy', async () => {
    const time = new VirtualTime()
    const timing = paceTiming(1, 8_000)
    const store = new MemorySlotStore()
    const pace = makeSendPace({ store, timing, clock: time.clock, sleep: time.sleep })
    const claimedAt = time.now
    const abandoned = await time.run(pace.acquire(forever()))
    const next = await time.run(pace.acquire(forever()))

    expect(abandoned.sendBy).toBe(claimedAt + timing.leaseMs - timing.intervalMs)
    expect(time.now).toBe(claimedAt + timing.leaseMs)
    expect(time.now - abandoned.sendBy).toBe(timing.intervalMs)
    // The late release of the abandoned hold does not free the slot its successor holds.
    await abandoned.release('sent')
    expect(
      await store.claim({ holder: 'third', now: time.now, startAt: time.now, leaseUntil: time.now + 1 }),
    ).toEqual({
      claimed: false,
      nextAt: claimedAt + timing.leaseMs,
      heldUntil: claimedAt + 2 * timing.leaseMs,
    })
    await next.release('sent')
  })

  it('waits longer after SES answered Throttling: something else in the account is calling', async () => {
    const time = new VirtualTime()
    const timing = paceTiming(1, 8_000)
    const pace = makeSendPace({ store: new MemorySlotStore(), timing, clock: time.clock, sleep: time.sleep })
    const first = await time.run(pace.acquire(forever()))
    const released = time.now
    await first.release('throttled')
    await time.run(pace.acquire(forever()))
    expect(time.now - released).toBe(timing.throttledBackoffMs)
  })

  it('gives up with a transient failure when the deadline comes before a slot', async () => {
    const time = new VirtualTime()
    const timing = paceTiming(1, 8_000)
    const pace: SendPace = makeSendPace({
      store: new MemorySlotStore(),
      timing,
      clock: time.clock,
      sleep: time.sleep,
    })
    await time.run(pace.acquire(forever()))
    const waiting = pace.acquire(time.signalAt(time.now + 500))
    await expect(time.run(waiting)).rejects.toThrow(TransientFailureError)
    await expect(waiting).rejects.toThrow('no SendBounce slot came free before the deadline')
  })

  it('gives back a slot taken ahead when the deadline comes before its start', async () => {
    const time = new VirtualTime()
    const timing = paceTiming(1, 8_000)
    const store = new MemorySlotStore()
    const pace = makeSendPace({ store, timing, clock: time.clock, sleep: time.sleep })
    const first = await time.run(pace.acquire(forever()))
    const released = time.now
    await first.release('sent')
    const late = pace.acquire(time.signalAt(released + 500))
    await expect(time.run(late)).rejects.toThrow(TransientFailureError)
    await time.run(pace.acquire(forever()))
    expect(time.now).toBe(released + timing.intervalMs)
  })

  it('reports a release that failed and lets the lease free the slot', async () => {
    const time = new VirtualTime()
    const timing = paceTiming(1, 8_000)
    const store = new MemorySlotStore()
    const failures: unknown[] = []
    const pace = makeSendPace({
      store: {
        claim: store.claim.bind(store),
        release: () => Promise.reject(new Error('table unavailable')),
      },
      timing,
      clock: time.clock,
      sleep: time.sleep,
      onReleaseError: (error) => failures.push(error),
    })
    const start = time.now
    const hold = await time.run(pace.acquire(forever()))
    await hold.release('sent')
    expect(failures).toEqual([new Error('table unavailable')])
    await time.run(pace.acquire(forever()))
    expect(time.now).toBe(start + timing.leaseMs)
  })
})
