declare module 'dynalite' {
  import type { Server } from 'node:http'

  interface DynaliteOptions {
    createTableMs?: number
    deleteTableMs?: number
    updateTableMs?: number
    maxItemSizeKb?: number
    /** LevelDB directory; in memory when omitted. */
    path?: string
  }

  function dynalite(options?: DynaliteOptions): Server
  export = dynalite
}
