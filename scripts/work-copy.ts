import { type ChildProcess, spawn } from 'node:child_process'
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
  /** `sh -c command` in the copy, with `env(extra)`; what it printed, and how it exited. */
  run(command: string, extra?: Record<string, string>): Promise<CommandResult>
  /** A stand-in (`npm run local-ses`) on `port`, once it says it is listening; `process` is npm. */
  startStandIn(command: string, port: number): Promise<StandIn>
  remove(): void
}

export interface StandIn {
  readonly process: ChildProcess
  stop(): Promise<void>
}

export interface CommandResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const COMMAND_TIMEOUT_MS = 300_000

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
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: home,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NO_COLOR: '1',
    ...extra,
  })
  return {
    root,
    home,
    env,
    run: (command, extra) =>
      new Promise((resolve, reject) => {
        const child = spawn('sh', ['-c', command], {
          cwd: root,
          env: env(extra),
          timeout: COMMAND_TIMEOUT_MS,
        })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString('utf8')
        })
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString('utf8')
        })
        child.on('error', reject)
        child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }))
      }),
    startStandIn: async (command, port) => {
      const child = spawn('sh', ['-c', `exec ${command}`], {
        cwd: root,
        env: env({ PORT: String(port) }),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      const exited = new Promise<void>((resolve) => child.on('close', () => resolve()))
      let output = ''
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${command} did not start:\n${output}`)), 60_000)
        child.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8')
          if (output.includes('listening on')) {
            clearTimeout(timer)
            resolve()
          }
        })
        child.on('close', () => reject(new Error(`${command} stopped:\n${output}`)))
      })
      return {
        process: child,
        stop: async () => {
          child.kill('SIGTERM')
          await exited
        },
      }
    },
    remove: () => rmSync(directory, { recursive: true, force: true }),
  }
}
