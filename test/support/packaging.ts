import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, posix } from 'node:path'
import { promisify } from 'node:util'
import { inflateRawSync } from 'node:zlib'
import { type CommandResult, ROOT, type WorkCopy } from '../../scripts/work-copy.js'

/**
 * `npm run package` in a copy of the repository (scripts/work-copy.ts), and the zips it makes,
 * opened and run as Lambda opens and runs them.
 */

export const PACKAGE_TIMEOUT_MS = 120_000

const run = promisify(execFile)

/** package.json's own `package` script, run as `npm run package` runs it, in `copy`. */
export function packageIn(copy: WorkCopy): Promise<CommandResult> {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>
  }
  return copy.run(scripts.package ?? 'false')
}

/**
 * The files of a zip archive by name (stored or deflated entries, as serverless packages them),
 * read from its central directory (APPNOTE.TXT 4.3).
 */
export function unzip(archive: Buffer): Map<string, Buffer> {
  const end = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
  if (end === -1) throw new Error('not a zip archive: no end of central directory')
  const entries = new Map<string, Buffer>()
  let at = archive.readUInt32LE(end + 16)
  for (let count = archive.readUInt16LE(end + 10); count > 0; count--) {
    if (archive.readUInt32LE(at) !== 0x02014b50) throw new Error(`no central directory header at ${at}`)
    const method = archive.readUInt16LE(at + 10)
    const compressedSize = archive.readUInt32LE(at + 20)
    const nameLength = archive.readUInt16LE(at + 28)
    const headerExtra = archive.readUInt16LE(at + 30) + archive.readUInt16LE(at + 32)
    const local = archive.readUInt32LE(at + 42)
    const name = archive.toString('utf8', at + 46, at + 46 + nameLength)
    const start = local + 30 + archive.readUInt16LE(local + 26) + archive.readUInt16LE(local + 28)
    const data = archive.subarray(start, start + compressedSize)
    if (method !== 0 && method !== 8) throw new Error(`${name}: compression method ${method}`)
    if (!name.endsWith('/')) entries.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data))
    at += 46 + nameLength + headerExtra
  }
  return entries
}

/**
 * `entry` and every module it imports statically (`import … from`, not `import()`), transitively:
 * the files a cold start reads and compiles, in an unzipped function's files.
 */
export function staticImportClosure(files: ReadonlyMap<string, Buffer>, entry: string): string[] {
  return importClosure(files, entry, STATIC_IMPORT)
}

/** `entry` and every module it imports by `pattern` (its first group: the relative specifier), transitively. */
export function importClosure(files: ReadonlyMap<string, Buffer>, entry: string, pattern: RegExp): string[] {
  const seen = new Set<string>()
  const visit = (file: string): void => {
    if (seen.has(file) || !files.has(file)) return
    seen.add(file)
    const text = files.get(file)?.toString() ?? ''
    for (const [, specifier = ''] of text.matchAll(pattern)) {
      visit(posix.normalize(posix.join(posix.dirname(file), specifier)))
    }
  }
  visit(entry)
  return [...seen]
}

const STATIC_IMPORT = /(?:^|[;}\n])\s*(?:import|export)\s*(?:[\w${},*\s]*?from\s*)?["'](\.{1,2}\/[^"']+)["']/g

/** Extracts a function's zip into `directory`, as Lambda does into /var/task. */
export function extractZip(zipFile: string, directory: string): string[] {
  const entries = unzip(readFileSync(zipFile))
  for (const [name, data] of entries) {
    const target = join(directory, name)
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, data)
  }
  return [...entries.keys()].sort()
}

const INVOKE_PACKAGED = join(import.meta.dirname, 'invoke-packaged.mjs')

export interface Memory {
  /** RSS at that moment, bytes. */
  readonly rss: number
  /** The kernel's high-water mark of RSS since the process started (VmHWM), bytes. */
  readonly peak: number
}

export interface PackagedRun {
  readonly importMs: number
  readonly afterImport: Memory
  readonly results: readonly { result?: unknown; error?: string; ms?: number; cpuMs?: number }[]
  readonly end: Memory
  /** What the handler logged (Powertools writes ERROR and WARN lines to stderr). */
  readonly stdout: string
  readonly stderr: string
}

/**
 * Invokes `handler` (e.g. `handlers/bounce.handler`) of a function extracted into `directory` with
 * each event in turn, in a fresh bare `node` (test/support/invoke-packaged.mjs) whose whole
 * environment is `env`.
 */
export async function runPackaged(
  directory: string,
  handler: string,
  events: readonly unknown[],
  env: NodeJS.ProcessEnv,
  {
    nodeOptions = [],
    node = process.execPath,
    driver = INVOKE_PACKAGED,
  }: {
    /** Options for `node` itself, e.g. `--enable-source-maps` as the function's NODE_OPTIONS. */
    readonly nodeOptions?: readonly string[]
    /** The Node.js binary (another version than this one, e.g. Lambda's). */
    readonly node?: string
    /** The script that loads and invokes the handler. */
    readonly driver?: string
  } = {},
): Promise<PackagedRun> {
  const eventsFile = join(mkdtempSync(join(tmpdir(), 'ses-bouncer-events-')), 'events.json')
  writeFileSync(eventsFile, JSON.stringify(events))
  try {
    const { stdout, stderr } = await run(node, [...nodeOptions, driver, handler, eventsFile], {
      cwd: directory,
      env,
      maxBuffer: 64 * 1024 * 1024,
      timeout: PACKAGE_TIMEOUT_MS,
    })
    const marker = stdout.lastIndexOf('\n@@result ')
    if (marker === -1) throw new Error(`no result from the packaged handler:\n${stdout}`)
    return {
      ...JSON.parse(stdout.slice(marker + '\n@@result '.length)),
      stdout: stdout.slice(0, marker),
      stderr,
    }
  } finally {
    rmSync(dirname(eventsFile), { recursive: true, force: true })
  }
}
