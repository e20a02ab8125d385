import { vi } from 'vitest'
import { captureOutput, type LogLine } from './lambda.js'

/**
 * A fresh cold start of a handler module with the given environment, as Lambda would load it in
 * a new container: each call gets its own runtime, clients and configuration, sharing no memory
 * with an earlier one. What the cold start logs goes to `lines`, also when it throws.
 */
export async function coldStart<Handler>(
  load: () => Promise<{ handler: unknown }>,
  env: Record<string, string>,
  lines: LogLine[] = [],
): Promise<Handler> {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value)
  vi.resetModules()
  const output = captureOutput()
  try {
    const module = await load()
    return module.handler as Handler
  } finally {
    lines.push(...output.lines())
    output.restore()
  }
}
