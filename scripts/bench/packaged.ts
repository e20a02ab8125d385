// The functions as `serverless package` builds them: the deployment zips and the CloudFormation
// template, made in a copy of the repository (osls always writes <service>/.serverless, and a
// developer's own must not be touched), then unzipped. Whatever the bundle looks like (one file
// or several, CommonJS or ESM), each function is found from its template entry: the zip named by
// its code key, the handler file named by its Handler.

import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { promisify } from 'node:util'
import { extractZip } from '../../test/support/packaging.js'
import { workCopy } from '../work-copy.js'

const run = promisify(execFile)

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

export interface PackagedFunction {
  /** The function's directory as Lambda unpacks it (its working directory, /var/task). */
  readonly directory: string
  /** The module to import and the name of its handler export. */
  readonly module: string
  readonly exportName: string
  readonly timeoutSeconds: number
  readonly memoryMb: number
  /** Its environment as the template sets it; values CloudFormation computes are kept as objects. */
  readonly environment: Readonly<Record<string, Json>>
}

export interface Packaged {
  readonly template: { Resources: Record<string, { Type: string; Properties: JsonObject }> }
  fn(name: string): PackagedFunction
}

/**
 * `serverless package --stage dev` in a copy of the repository; the zips land in `<work>/package`.
 * `files` (path relative to the repository → text) replace the copy's own first, e.g. the packaged
 * rules file, which the package step then checks and compiles as it would for a deploy.
 */
export async function packageStack(
  work: string,
  files: Readonly<Record<string, string>> = {},
): Promise<string> {
  const copy = workCopy()
  const out = join(work, 'package')
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(copy.root, name), text)
    await run(
      join(copy.root, 'node_modules', '.bin', 'serverless'),
      ['package', '--stage', 'dev', '--package', out],
      {
        cwd: copy.root,
        env: copy.env(),
        timeout: 600_000,
      },
    )
  } finally {
    copy.remove()
  }
  return out
}

/** The packaged stack in `packageDir` (from packageStack, or `npm run package`'s .serverless). */
export function loadPackaged(packageDir: string, work: string): Packaged {
  const template = JSON.parse(
    readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Packaged['template']
  const unpacked = new Map<string, PackagedFunction>()
  return {
    template,
    fn(name) {
      const known = unpacked.get(name)
      if (known !== undefined) return known
      const entry = Object.values(template.Resources).find(
        (resource) =>
          resource.Type === 'AWS::Lambda::Function' &&
          String(resource.Properties.FunctionName).endsWith(`-${name}`),
      )
      if (entry === undefined) throw new Error(`no function ${name} in the packaged template`)
      const properties = entry.Properties
      const zip = join(packageDir, basename(String((properties.Code as JsonObject).S3Key)))
      const directory = join(work, 'functions', name)
      mkdirSync(directory, { recursive: true })
      extractZip(zip, directory)
      const handler = String(properties.Handler)
      const dot = handler.lastIndexOf('.')
      const stem = join(directory, handler.slice(0, dot))
      const module = ['.mjs', '.cjs', '.js'].map((extension) => stem + extension).find(existsSync)
      if (module === undefined) throw new Error(`${name}: no ${handler.slice(0, dot)}.{mjs,cjs,js} in ${zip}`)
      const variables = ((properties.Environment as JsonObject | undefined)?.Variables ?? {}) as JsonObject
      const fn: PackagedFunction = {
        directory,
        module,
        exportName: handler.slice(dot + 1),
        timeoutSeconds: Number(properties.Timeout ?? 6),
        memoryMb: Number(properties.MemorySize ?? 128),
        environment: variables,
      }
      unpacked.set(name, fn)
      return fn
    },
  }
}
