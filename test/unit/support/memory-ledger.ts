import type { BounceLedger, OnceResult } from '../../../src/ports/index.js'

type Entry = { readonly state: 'held' } | { readonly state: 'done'; readonly json: string }

/**
 * The ledger's contract in memory: a key is held while its work runs, keeps the work's JSON
 * result once it returns (a replay gets that copy), and is freed again when the work throws.
 */
export class InMemoryLedger implements BounceLedger {
  readonly entries = new Map<string, Entry>()
  readonly perHour = new Map<string, number>()

  hold(key: string): void {
    this.entries.set(key, { state: 'held' })
  }

  async once<T>(key: string, work: () => Promise<T>): Promise<OnceResult<T>> {
    const entry = this.entries.get(key)
    if (entry?.state === 'held') return { kind: 'in-progress' }
    if (entry?.state === 'done') return { kind: 'done', value: JSON.parse(entry.json) as T, replayed: true }
    this.entries.set(key, { state: 'held' })
    let value: T
    try {
      value = await work()
    } catch (error) {
      this.entries.delete(key)
      throw error
    }
    this.entries.set(key, { state: 'done', json: JSON.stringify(value) })
    return { kind: 'done', value, replayed: false }
  }

  countBounceTo(sender: string, at: Date): Promise<number> {
    return this.tally(`mailbox ${sender}`, at)
  }

  countBounceToDomain(domain: string, at: Date): Promise<number> {
    return this.tally(`domain ${domain}`, at)
  }

  private async tally(target: string, at: Date): Promise<number> {
    const key = `${target} ${at.toISOString().slice(0, 13)}`
    const count = (this.perHour.get(key) ?? 0) + 1
    this.perHour.set(key, count)
    return count
  }
}
