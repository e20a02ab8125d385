import { loadLogAddresses } from '../config/log-addresses.js'
import { ConfigError, type ConfigProblem } from '../config/problems.js'
import { addressToken } from '../runtime/log-addresses.js'
import { UsageError } from './usage.js'

/**
 * The token LOG_ADDRESSES=hash logs for each address, with the deployed key from
 * LOG_ADDRESS_KEY: what to search the logs for when asked about a known address.
 */
export function hashAddress(addresses: readonly string[], env: Readonly<Record<string, string | undefined>>) {
  if (addresses.length === 0) throw new UsageError('hash-address takes at least one address')
  const problems: ConfigProblem[] = []
  const settings = loadLogAddresses({ LOG_ADDRESSES: 'hash', LOG_ADDRESS_KEY: env.LOG_ADDRESS_KEY }, problems)
  if (settings?.mode !== 'hash') throw new ConfigError(problems, 'LOG_ADDRESS_KEY')
  return addresses.map((address) => `${addressToken(address, settings.key)}  ${address}`).join('\n')
}
