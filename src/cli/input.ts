import type { FileHandle } from 'node:fs/promises'
import { open, readFile } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { InputError } from './usage.js'

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
}

/** `cannot read x.eml: no such file`, one line, whatever the system call said. */
export function unreadable(path: string, error: unknown): InputError {
  const code = (error as NodeJS.ErrnoException).code
  const reason = (code === undefined ? undefined : REASONS[code]) ?? (error as Error).message
  return new InputError(`cannot read ${path}: ${reason}`, { cause: error })
}

/**
 * A file named on the command line, opened before anything streams from it: a missing file is
 * one line of error here, never an unhandled stream error later.
 */
export async function openInput(path: string): Promise<Readable> {
  let handle: FileHandle
  try {
    handle = await open(path, 'r')
    if ((await handle.stat()).isDirectory()) {
      await handle.close()
      throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' })
    }
  } catch (error) {
    throw unreadable(path, error)
  }
  return handle.createReadStream()
}

export async function readInput(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw unreadable(path, error)
  }
}
