/**
 * Settings for running the real handlers on this machine with no AWS account: the SDK must never
 * probe the instance-metadata address. (Its Node-version notice is not silenced: the demo builds
 * no SDK client, and where one is built on Node 20 the notice is true.)
 */
export function useOfflineEnvironment(env: Record<string, string> = {}): void {
  Object.assign(process.env, {
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    ...env,
  })
}
