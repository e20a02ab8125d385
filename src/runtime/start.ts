import type { Logger } from '@aws-lambda-powertools/logger'
import { Metrics } from '@aws-lambda-powertools/metrics'
import { loadLogAddresses } from '../config/log-addresses.js'
import type { ConfigProblem } from '../config/problems.js'
import { addressRedactor, serviceLogger } from './log-addresses.js'
import { type Env, METRICS_NAMESPACE, SERVICE_NAME } from './service.js'

/**
 * What every function's cold start begins with: how addresses are logged (its problems kept, to be
 * reported with the rest of the configuration's), the logger that applies it, and the metrics.
 */
export function startTelemetry(env: Env) {
  const problems: ConfigProblem[] = []
  const redactor = addressRedactor(loadLogAddresses(env, problems))
  const logger = serviceLogger(redactor)
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME })
  return { problems, redactor, logger, metrics }
}

/** A cold start's configuration step: on a problem, one line says why the function will not start. */
export function configuredOrRefuse<T>(logger: Logger, configure: () => T): T {
  try {
    return configure()
  } catch (error) {
    logger.error('refusing to start: invalid configuration', { error })
    throw error
  }
}
