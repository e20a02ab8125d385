/** One service name and one metrics namespace for every function (Powertools logs and EMF). */
export const SERVICE_NAME = 'ses-bouncer'
export const METRICS_NAMESPACE = 'SesBouncer'
