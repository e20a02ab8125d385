import type { ConfigProblem } from './problems.js'

/**
 * How mail addresses appear in the functions' log lines and metric dimensions (never in the
 * SendBounce request itself): `full` as they came, `domain` as `…@example.com`, `hash` as a keyed
 * HMAC-SHA256 token, one token per mailbox, that `ses-bouncer hash-address` recomputes.
 */
export const LOG_ADDRESS_MODES = ['full', 'domain', 'hash'] as const
export type LogAddressMode = (typeof LOG_ADDRESS_MODES)[number]

export type LogAddresses =
  | { readonly mode: 'full' | 'domain' }
  | { readonly mode: 'hash'; readonly key: string }

/**
 * A key short enough to guess would let anyone with the logs recompute tokens for candidate
 * addresses; 32 characters is what `openssl rand -hex 16` gives, 128 bits.
 */
export const MIN_LOG_ADDRESS_KEY_LENGTH = 32

/**
 * `LOG_ADDRESSES` and `LOG_ADDRESS_KEY`; a mistake goes to `problems` and the result is
 * `undefined`, so that the caller can still log the refusal without the addresses it was told
 * to keep out.
 */
export function loadLogAddresses(
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
): LogAddresses | undefined {
  const mode = (env.LOG_ADDRESSES ?? '').trim().toLowerCase() || 'full'
  const key = env.LOG_ADDRESS_KEY ?? ''
  if (!(LOG_ADDRESS_MODES as readonly string[]).includes(mode)) {
    problems.push({
      path: 'LOG_ADDRESSES',
      message: `expected one of ${LOG_ADDRESS_MODES.join(', ')}, got '${env.LOG_ADDRESSES}'`,
    })
    return undefined
  }
  if (mode !== 'hash') return { mode: mode as 'full' | 'domain' }
  if (key.trim().length < MIN_LOG_ADDRESS_KEY_LENGTH) {
    problems.push({
      path: 'LOG_ADDRESS_KEY',
      message:
        key.trim() === ''
          ? `required with LOG_ADDRESSES=hash: a secret of at least ${MIN_LOG_ADDRESS_KEY_LENGTH} characters (openssl rand -hex 32)`
          : `expected at least ${MIN_LOG_ADDRESS_KEY_LENGTH} characters, got ${key.trim().length}`,
    })
    return undefined
  }
  return { mode: 'hash', key: key.trim() }
}
