// The bounce function as `npm run package` ships it, run as Lambda runs it (a bare `node` in the
// extracted zip, test/support/invoke-packaged.mjs), against the most-used npm peer for SES inbound
// mail, aws-lambda-ses-forwarder 6.0.0, in the same run:
//
// - cold start: the wall time from starting the process to the handler module loaded (process
//   start + import), in fresh processes taking turns (ours, the peer, an empty handler), and the
//   RSS right after it (idle);
// - a 40 MB message (SES's limit) decided by an attachment rule that must read to its end, in a
//   fresh process each time: the kernel's peak RSS (VmHWM) of the whole process.
//
// Every process gets the V8 heap flags Lambda's Node.js bootstrap derives from the function's
// memory (MemorySize in the packaged template), and runs on this Node.js, or on the one
// BENCH_NODE names (e.g. Lambda's major version: BENCH_NODE=/path/to/node22 npm run bench). The
// peer is installed for the benchmark only, from scripts/bench/peer (its own package.json and
// lock file), into .bench/peer: it is no dependency of ses-bouncer and nothing of it is ever
// bundled or packaged.

import { execFile, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { promisify } from 'node:util'
import { packageRules } from '../../src/runtime/package-rules.js'
import { type PackagedRun, runPackaged, staticImportClosure, unzip } from '../../test/support/packaging.js'
import { ROOT } from '../work-copy.js'
import { loadPackaged, packageStack } from './packaged.js'

const run = promisify(execFile)
const PEER_SOURCE = join(import.meta.dirname, 'peer')
const PEER_DIR = join(ROOT, '.bench', 'peer')
const PEER_PACKAGE = 'aws-lambda-ses-forwarder'
const INVOKE_PACKAGED = join(ROOT, 'test', 'support', 'invoke-packaged.mjs')
/** The Node.js the packaged function and the peer run on. */
export const FUNCTION_NODE = process.env.BENCH_NODE || process.execPath

export interface Packaged {
  /** The bounce function's zip, extracted. */
  readonly directory: string
  readonly handler: string
  /** The function's environment as the template sets it (plain values only). */
  readonly environment: Readonly<Record<string, string>>
  readonly memoryMb: number
  readonly zipBytes: number
  /** Code in the zip (.js), and the part of it the handler module imports before its first message. */
  readonly codeBytes: number
  readonly eagerBytes: number
}

/** `serverless package` in a copy of the repository (./packaged.js); the bounce function's zip, extracted. */
export async function packageBounce(work: string): Promise<Packaged> {
  const packageDir = await packageStack(work)
  const packaged = loadPackaged(packageDir, work)
  const fn = packaged.fn('bounce')
  const properties = Object.values(packaged.template.Resources).find(
    (resource) =>
      resource.Type === 'AWS::Lambda::Function' &&
      String(resource.Properties.FunctionName).endsWith('-bounce'),
  )?.Properties
  if (properties === undefined) throw new Error('no bounce function in the packaged template')
  const zip = join(packageDir, basename(String((properties.Code as { S3Key: string }).S3Key)))
  const files = unzip(readFileSync(zip))
  const code = [...files].filter(([name]) => name.endsWith('.js'))
  const entry = relative(fn.directory, fn.module).replaceAll('\\', '/')
  return {
    directory: fn.directory,
    handler: `${entry.replace(/\.[cm]?js$/, '')}.${fn.exportName}`,
    environment: Object.fromEntries(
      Object.entries(fn.environment).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    ),
    memoryMb: Number(properties.MemorySize),
    zipBytes: statSync(zip).size,
    codeBytes: code.reduce((sum, [, data]) => sum + data.length, 0),
    eagerBytes: staticImportClosure(files, entry).reduce(
      (sum, file) => sum + (files.get(file)?.length ?? 0),
      0,
    ),
  }
}

/**
 * The peer, installed from scripts/bench/peer's lock file into .bench/peer (again only when the
 * lock file changed); the directory of its package.
 */
export async function installPeer(log: (line: string) => void): Promise<string> {
  const lock = readFileSync(join(PEER_SOURCE, 'package-lock.json'), 'utf8')
  const installedLock = join(PEER_DIR, 'node_modules', '.package-lock.json')
  const packageDir = join(PEER_DIR, 'node_modules', PEER_PACKAGE)
  const marker = join(PEER_DIR, 'installed-from.json')
  if (!existsSync(installedLock) || !existsSync(marker) || readFileSync(marker, 'utf8') !== lock) {
    log(`installing ${PEER_PACKAGE} (the reference) into ${PEER_DIR} ...`)
    mkdirSync(PEER_DIR, { recursive: true })
    cpSync(join(PEER_SOURCE, 'package.json'), join(PEER_DIR, 'package.json'))
    cpSync(join(PEER_SOURCE, 'package-lock.json'), join(PEER_DIR, 'package-lock.json'))
    await run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--omit=dev'], {
      cwd: PEER_DIR,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    })
    writeFileSync(marker, lock)
  }
  return packageDir
}

/** The V8 heap flags Lambda's Node.js bootstrap passes for a function of `memoryMb`. */
export function lambdaHeapFlags(memoryMb: number): string[] {
  // /var/runtime/bootstrap of the Node.js runtimes: a tenth of the memory is the new space, two
  // semi-spaces; the rest is the old space.
  const newSpace = Math.floor(memoryMb / 10)
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMb - newSpace}`]
}

export interface ColdStart {
  /** Wall milliseconds from starting `node` to the handler module loaded, one per process. */
  readonly wallMs: number[]
  /** Milliseconds of the import itself, measured inside the process. */
  readonly importMs: number[]
  /** RSS right after the import, bytes. */
  readonly idleRss: number[]
}

export interface ColdStarts {
  readonly ours: ColdStart
  readonly peer: ColdStart
  /** A handler module that imports nothing: the cost of starting the process alone. */
  readonly bare: ColdStart
}

/**
 * Cold starts of our function, the peer and an empty handler, `rounds` fresh processes each, taking
 * turns so that load on the machine falls on all three alike. `env` is the whole environment of
 * each process; ours also gets its own from the template (where `env` does not say otherwise).
 */
export async function measureColdStarts(
  packaged: Packaged,
  peerDir: string,
  work: string,
  env: NodeJS.ProcessEnv,
  rounds: number,
): Promise<ColdStarts> {
  const bareDir = join(work, 'bare-function')
  mkdirSync(join(bareDir, 'handlers'), { recursive: true })
  writeFileSync(join(bareDir, 'handlers', 'package.json'), '{ "type": "module" }\n')
  writeFileSync(join(bareDir, 'handlers', 'bare.js'), 'export const handler = async () => ({})\n')
  const flags = lambdaHeapFlags(packaged.memoryMb)
  const subjects = {
    ours: { dir: packaged.directory, handler: packaged.handler, env: { ...packaged.environment, ...env } },
    peer: { dir: peerDir, handler: 'index.handler', env },
    bare: { dir: bareDir, handler: 'handlers/bare.handler', env },
  } as const
  const results: Record<keyof ColdStarts, ColdStart> = {
    ours: { wallMs: [], importMs: [], idleRss: [] },
    peer: { wallMs: [], importMs: [], idleRss: [] },
    bare: { wallMs: [], importMs: [], idleRss: [] },
  }
  for (let round = 0; round < rounds; round++) {
    for (const name of ['ours', 'peer', 'bare'] as const) {
      const { dir, handler, env: subjectEnv } = subjects[name]
      const { wallMs, result } = await timedRun(dir, handler, subjectEnv, flags)
      results[name].wallMs.push(wallMs)
      results[name].importMs.push(result.importMs)
      results[name].idleRss.push(result.afterImport.rss)
    }
  }
  return results
}

/** One fresh `node` that imports the handler and exits; its wall time as the parent sees it. */
async function timedRun(
  directory: string,
  handler: string,
  env: NodeJS.ProcessEnv,
  flags: readonly string[],
): Promise<{ wallMs: number; result: PackagedRun }> {
  const started = performance.now()
  const child = spawn(FUNCTION_NODE, [...flags, INVOKE_PACKAGED, handler], {
    cwd: directory,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  const wallMs = performance.now() - started
  const marker = stdout.lastIndexOf('\n@@result ')
  if (code !== 0 || marker === -1) throw new Error(`${handler} in ${directory} failed (${code}):\n${stderr}`)
  return { wallMs, result: { ...JSON.parse(stdout.slice(marker + 10)), stdout: '', stderr } }
}

export interface LargeMessage {
  /** Peak RSS (VmHWM) of each fresh process, bytes. */
  readonly peakRss: number[]
  readonly decideMs: number[]
  readonly decideCpuMs: number[]
  readonly messageBytes: number
}

/**
 * A fresh process per run, as a cold function meets its first message: the packaged function with
 * `rules` (compiled as `serverless package` compiles them) decides `event`. `env` as for
 * measureColdStarts: the local endpoints and bucket override the template's.
 */
export async function measureLargeMessage(
  packaged: Packaged,
  rules: string,
  event: unknown,
  expectedDisposition: string,
  messageBytes: number,
  env: NodeJS.ProcessEnv,
  runs: number,
): Promise<LargeMessage> {
  writeFileSync(join(packaged.directory, 'bench-rules.yml'), rules)
  const environment = { ...packaged.environment, ...env, RULES_FILE: 'bench-rules.yml' }
  const compiled = await packageRules(environment, packaged.directory)
  writeFileSync(join(packaged.directory, compiled.compiledName), compiled.text)
  const result: LargeMessage = { peakRss: [], decideMs: [], decideCpuMs: [], messageBytes }
  for (let i = 0; i < runs; i++) {
    const { results, end } = await runPackaged(
      packaged.directory,
      packaged.handler,
      [event],
      { ...environment, RULES_FILE: compiled.compiledName },
      { nodeOptions: lambdaHeapFlags(packaged.memoryMb), node: FUNCTION_NODE },
    )
    const [outcome] = results
    const disposition = (outcome?.result as { disposition?: string } | undefined)?.disposition
    if (disposition !== expectedDisposition) {
      throw new Error(`40 MB message: ${JSON.stringify(outcome)}, expected ${expectedDisposition}`)
    }
    result.peakRss.push(end.peak)
    result.decideMs.push(outcome?.ms ?? Number.NaN)
    result.decideCpuMs.push(outcome?.cpuMs ?? Number.NaN)
  }
  return result
}
