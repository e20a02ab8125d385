// Tests must never reach AWS or the instance-metadata address (169.254.169.254): without
// credentials the SDK would probe it. Dummy static credentials short-circuit the provider chain.
process.env.AWS_EC2_METADATA_DISABLED = 'true'
process.env.AWS_ACCESS_KEY_ID ??= 'test'
process.env.AWS_SECRET_ACCESS_KEY ??= 'test'
process.env.AWS_REGION ??= 'us-east-1'
process.env.POWERTOOLS_DEV ??= 'false'
