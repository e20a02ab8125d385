import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = join(import.meta.dirname, '..', '..')
/** Never copied: dependencies (linked instead), history, and build or bench output. */
const ALWAYS_SKIPPED = ['node_modules', '.git', '.serverless', '.esbuild', 'coverage', 'dist', '.bench']

/**
 * A copy of the repository in a new temporary directory, at `<dir>/repo`, with node_modules
 * linked rather than copied and an empty `<dir>/home` for a clean HOME: osls always builds into
 * `<service>/.serverless`, so packaging in a copy leaves the developer's checkout alone.
 */
export function repositoryCopy(prefix: string, skipped: readonly string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const skip = new Set([...ALWAYS_SKIPPED, ...skipped])
  cpSync(ROOT, join(dir, 'repo'), {
    recursive: true,
    filter: (source) => !skip.has(source.slice(ROOT.length + 1).split('/')[0] ?? ''),
  })
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'repo', 'node_modules'), 'dir')
  mkdirSync(join(dir, 'home'))
  return dir
}
