import type { SendSlotStore, SlotClaim, SlotRequest } from '../ports/index.js'

/** The slot in this process's memory: one instance only (local runs, or no state table). */
export class MemorySlotStore implements SendSlotStore {
  private nextAt = 0
  private holder: { readonly id: string; readonly until: number } | undefined

  async claim({ holder, now, startAt, leaseUntil }: SlotRequest): Promise<SlotClaim> {
    const held = this.holder !== undefined && this.holder.until > now
    if (held || this.nextAt > startAt) {
      return { claimed: false, nextAt: this.nextAt, ...(held ? { heldUntil: this.holder?.until } : {}) }
    }
    this.holder = { id: holder, until: leaseUntil }
    this.nextAt = startAt
    return { claimed: true }
  }

  async release(holder: string, nextAt: number): Promise<void> {
    if (this.holder?.id !== holder) return
    this.holder = undefined
    this.nextAt = nextAt
  }
}
