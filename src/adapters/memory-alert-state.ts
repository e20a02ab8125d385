import type { AlertState } from '../ports/sending-health.js'

/**
 * Claims held in this container's memory, for when no table is configured: "once a day" then
 * holds per warm container only, and a cold start may send a day's alert or digest again.
 */
export class MemoryAlertState implements AlertState {
  private readonly claims = new Map<string, number>()

  constructor(private readonly now: () => Date = () => new Date()) {}

  async claim(key: string, expiresAt: Date): Promise<boolean> {
    const now = this.now().getTime()
    const held = this.claims.get(key)
    if (held !== undefined && held >= now) return false
    this.claims.set(key, expiresAt.getTime())
    return true
  }

  async release(key: string): Promise<void> {
    this.claims.delete(key)
  }
}
