// The bounce handler built as serverless-esbuild builds it (serverless/esbuild.cjs: ES modules,
// code splitting, minified), and the same build with every module it loads on first use imported
// up front; each imported in fresh processes, taking turns.

import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { type BuildOptions, build, type Metafile } from 'esbuild'
import { runPackaged } from '../../test/support/packaging.js'
import { ROOT } from '../work-copy.js'

export interface BundleMeasurement {
  /** Bytes of the handler module and the chunks it imports statically: what a cold start reads. */
  readonly lazyBytes: number
  readonly eagerBytes: number
  /** Milliseconds of each import of the handler module, one fresh process each. */
  readonly lazyMs: readonly number[]
  readonly eagerMs: readonly number[]
}

const { esbuildOptions } = createRequire(import.meta.url)('../../serverless/esbuild.cjs') as {
  esbuildOptions: BuildOptions
}

/** What the bounce runtime imports on first use (src/runtime, src/adapters/mime-parser.ts). */
const LAZY_MODULES = [
  'src/adapters/ses-bounce-sender.js',
  'src/adapters/ses-client.js',
  'src/adapters/s3-message-source.js',
  'src/adapters/s3-client.js',
  'src/adapters/s3-rules-source.js',
  'src/adapters/dynamo-ledger.js',
  'src/adapters/dynamo-client.js',
]
const LAZY_PACKAGES = ['libmime', '@zone-eu/mailsplit', 'yaml']

/**
 * Builds both into `directory` and times the import of each in `processes` fresh Node processes,
 * alternating between the two so that load on the machine hits both alike. `env` names the rules
 * (compiled, as packaged) and the rest of the function's environment.
 */
export async function measureBundles(
  directory: string,
  env: NodeJS.ProcessEnv,
  processes = 10,
): Promise<BundleMeasurement> {
  const fromRoot = (path: string) => {
    const relativePath = relative(directory, join(ROOT, path)).replaceAll('\\', '/')
    return relativePath.startsWith('.') ? relativePath : `./${relativePath}`
  }
  const eagerEntry = join(directory, 'bounce-eager.ts')
  writeFileSync(
    eagerEntry,
    [
      ...LAZY_PACKAGES.map((name) => `import '${name}'`),
      ...LAZY_MODULES.map((module) => `import '${fromRoot(module)}'`),
      `export { handler } from '${fromRoot('handlers/bounce.js')}'`,
      '',
    ].join('\n'),
  )
  const builds = {
    lazy: { dir: join(directory, 'lazy'), entry: join(ROOT, 'handlers', 'bounce.ts') },
    eager: { dir: join(directory, 'eager'), entry: eagerEntry },
  }
  const bytes: Record<string, number> = {}
  for (const [name, { dir, entry }] of Object.entries(builds)) {
    const result = await build({
      ...esbuildOptions,
      entryPoints: { 'handlers/bounce': entry },
      outdir: dir,
      absWorkingDir: ROOT,
      // the eager entry lives in the temp directory; its bare imports resolve from the package
      nodePaths: [join(ROOT, 'node_modules')],
      metafile: true,
      logLevel: 'error',
    })
    bytes[name] = eagerOutputBytes(result.metafile, join(dir, 'handlers', 'bounce.js'))
  }
  const lazyMs: number[] = []
  const eagerMs: number[] = []
  for (let i = 0; i < processes; i++) {
    for (const [name, times] of [
      ['lazy', lazyMs],
      ['eager', eagerMs],
    ] as const) {
      const { importMs } = await runPackaged(builds[name].dir, 'handlers/bounce.handler', [], env)
      times.push(importMs)
    }
  }
  return { lazyBytes: bytes.lazy ?? 0, eagerBytes: bytes.eager ?? 0, lazyMs, eagerMs }
}

/** The output file and every output it imports statically, transitively, in bytes. */
function eagerOutputBytes(metafile: Metafile, entry: string): number {
  const outputs = metafile.outputs
  const key = (path: string) =>
    Object.keys(outputs).find((output) => join(ROOT, output) === path || output === path) ?? path
  const seen = new Set<string>()
  const visit = (output: string): void => {
    if (seen.has(output) || outputs[output] === undefined) return
    seen.add(output)
    for (const { path, kind } of outputs[output]?.imports ?? []) if (kind === 'import-statement') visit(path)
  }
  visit(key(entry))
  return [...seen].reduce((sum, output) => sum + (outputs[output]?.bytes ?? 0), 0)
}
