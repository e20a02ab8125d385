/** One service name and one metrics namespace for every function (Powertools logs and EMF). */
export const SERVICE_NAME = 'ses-bouncer'
export const METRICS_NAMESPACE = 'SesBouncer'

/** Time kept back from an invocation's deadline to log the outcome and return. */
export const DEADLINE_MARGIN_MS = 1_500

export type Env = Readonly<Record<string, string | undefined>>
