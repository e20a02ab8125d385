import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const ROOT = join(import.meta.dirname, '..')

/** What a copy leaves out: build output, the dependencies (linked instead), history. */
const SKIPPED = new Set(['node_modules', '.git', '.serverless', '.esbuild', 'coverage', 'dist', '.bench'])

export interface WorkCopy {
  /** The copy of the repository: run commands here. */
  readonly root: string
  /** A home directory of its own, so no user setting (an AWS profile) leaks in. */
  readonly home: string
  /** An environment for commands run in the copy: offline, no credentials, no colours. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv
  remove(): void
}

/**
 * A copy of the repository (node_modules linked, not copied) to run `serverless` and the npm
 * scripts in, so that their .esbuild/ and .serverless/ never clash with a developer's or another
 * run's: `serverless invoke local` builds into the service directory.
 */
export function workCopy(): WorkCopy {
  const directory = mkdtempSync(join(tmpdir(), 'ses-bouncer-copy-'))
  const root = join(directory, 'repo')
  const home = join(directory, 'home')
  cpSync(ROOT, root, {
    recursive: true,
    filter: (source) => !SKIPPED.has(source.slice(ROOT.length + 1).split('/')[0] ?? ''),
  })
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir')
  mkdirSync(home)
  return {
    root,
    home,
    env: (extra = {}) => ({
      PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: home,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      NO_COLOR: '1',
      ...extra,
    }),
    remove: () => rmSync(directory, { recursive: true, force: true }),
  }
}
