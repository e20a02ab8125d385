// The bounce handler as serverless-esbuild packages it (serverless.yml custom.esbuild: bundle,
// minify, keepNames, sourcemap without sources, node22, CommonJS `.cjs`), and the same bundle
// with every module imported eagerly; each `require()`d in fresh processes.

import { execFileSync } from 'node:child_process'
import { statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { type BuildOptions, build } from 'esbuild'

export interface BundleMeasurement {
  readonly lazyBytes: number
  readonly eagerBytes: number
  /** Milliseconds of each `require()`, one fresh process each. */
  readonly lazyMs: readonly number[]
  readonly eagerMs: readonly number[]
}

const ROOT = join(import.meta.dirname, '..', '..')

/** What the bounce runtime imports on first use (src/runtime/lazy-adapters.ts, mime-parser.ts). */
const LAZY_MODULES = [
  'src/adapters/ses-bounce-sender.js',
  'src/adapters/ses-client.js',
  'src/adapters/s3-message-source.js',
  'src/adapters/s3-client.js',
  'src/adapters/s3-rules-source.js',
  'src/adapters/dynamo-ledger.js',
  'src/adapters/dynamo-client.js',
]

/**
 * Builds both bundles into `directory` and times `require()` of each in `processes` fresh Node
 * processes, alternating between the two so that load on the machine hits both alike.
 */
export async function measureBundles(
  directory: string,
  env: NodeJS.ProcessEnv,
  processes = 10,
): Promise<BundleMeasurement> {
  // The eager variant: the same handler with every module it loads on first use imported up
  // front — the MIME header code and the adapters that bring the AWS SDK clients.
  const eagerEntry = join(directory, 'bounce-eager.ts')
  const fromRoot = (path: string) => {
    const relativePath = relative(directory, join(ROOT, path)).replaceAll('\\', '/')
    return relativePath.startsWith('.') ? relativePath : `./${relativePath}`
  }
  writeFileSync(
    eagerEntry,
    [
      "import 'libmime'",
      "import '@zone-eu/mailsplit'",
      ...LAZY_MODULES.map((module) => `import '${fromRoot(module)}'`),
      `export { handler } from '${fromRoot('handlers/bounce.js')}'`,
      '',
    ].join('\n'),
  )
  const options: BuildOptions = {
    bundle: true,
    minify: true,
    keepNames: true,
    sourcemap: true,
    sourcesContent: false,
    target: 'node22',
    platform: 'node',
    format: 'cjs',
    outdir: directory,
    outExtension: { '.js': '.cjs' },
    absWorkingDir: ROOT,
    // the eager entry lives in the temp directory; its bare imports resolve from the package
    nodePaths: [join(ROOT, 'node_modules')],
    logLevel: 'error',
  }
  await build({ ...options, entryPoints: { 'bounce-lazy': join(ROOT, 'handlers', 'bounce.ts') } })
  await build({ ...options, entryPoints: { 'bounce-eager': eagerEntry } })

  const lazy = join(directory, 'bounce-lazy.cjs')
  const eager = join(directory, 'bounce-eager.cjs')
  const lazyMs: number[] = []
  const eagerMs: number[] = []
  for (let i = 0; i < processes; i++) {
    lazyMs.push(requireMs(lazy, env))
    eagerMs.push(requireMs(eager, env))
  }
  return { lazyBytes: statSync(lazy).size, eagerBytes: statSync(eager).size, lazyMs, eagerMs }
}

/** A fresh `node` that requires the bundle (its cold start: modules and configuration) once. */
function requireMs(bundle: string, env: NodeJS.ProcessEnv): number {
  const script = `const t=performance.now();require(${JSON.stringify(bundle)});process.stdout.write('\\n@'+(performance.now()-t))`
  const output = execFileSync(process.execPath, ['-e', script], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString()
  const ms = Number(output.slice(output.lastIndexOf('@') + 1))
  if (!Number.isFinite(ms)) throw new Error(`no timing from ${bundle}: ${output}`)
  return ms
}
