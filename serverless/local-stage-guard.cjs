'use strict'

/**
 * The `local` stage points the handler at events/ and dry run for `serverless invoke local`.
 * On it, nothing may reach for AWS: the SDK and the Framework would otherwise probe the EC2
 * instance-metadata address for credentials. Packaging or deploying it would ship a function
 * that reads no mail, so that is refused.
 */
class LocalStageGuard {
  constructor(serverless, options) {
    const stage = () => options.stage ?? serverless.service.provider.stage
    if ((options.stage ?? 'local') === 'local') {
      process.env.AWS_EC2_METADATA_DISABLED = 'true'
    }
    const refuse = () => {
      if (stage() === 'local') {
        throw new serverless.classes.Error(
          'Stage "local" is only for `serverless invoke local`. Deploy or package a real stage, e.g. --stage prod',
        )
      }
    }
    this.hooks = {
      'before:package:initialize': refuse,
      'before:deploy:deploy': refuse,
    }
  }
}

module.exports = LocalStageGuard
