import type { SendSlotStore, SlotClaim } from '../ports/index.js'

/** The slot in this process's memory: one instance only (local runs, or no state table). */
export class MemorySlotStore implements SendSlotStore {
  private nextAt = 0
  private holder: string | undefined

  async claim(holder: string, now: number, until: number): Promise<SlotClaim> {
    if (this.nextAt > now) return { claimed: false, nextAt: this.nextAt, held: this.holder !== undefined }
    this.nextAt = until
    this.holder = holder
    return { claimed: true }
  }

  async release(holder: string, nextAt: number): Promise<void> {
    if (this.holder !== holder) return
    this.holder = undefined
    this.nextAt = nextAt
  }
}
