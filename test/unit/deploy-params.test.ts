import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'

type Params = Record<string, string>
const plugin = createRequire(import.meta.url)('../../serverless/deploy-params.cjs') as {
  checkDeployParams(params: Params): string[]
  reservedDomains(params: Params): string[]
}

/** The defaults of serverless.yml for a stage "prod" in us-east-1, plus the two required values. */
const valid: Params = {
  service: 'ses-bouncer',
  stage: 'prod',
  region: 'us-east-1',
  recipients: 'acme.io,.support.acme.io,billing@acme.io',
  bounceSender: 'mailer-daemon@acme.io',
  ruleSet: 'ses-bouncer-prod',
  ruleName: 'ses-bouncer-prod-bounce',
  createRuleSet: 'true',
  activateRuleSet: 'true',
  replaceActiveRuleSet: 'false',
  mailPrefix: 'inbound/',
  retentionDays: '14',
  tlsPolicy: 'Optional',
  invocationType: 'RequestResponse',
  dryRun: 'false',
  logAddresses: 'full',
  logAddressKey: '',
  alarmEmail: '',
  quotaAlarmPercent: '80',
  alertEmailTo: '',
  alertEmailFrom: '',
  digestEmailTo: '',
  sesConfigurationSet: '',
  alertEmailTags: '',
  quotaSchedule: 'rate(1 hour)',
  quotaAlertPercent: '',
  bounceRateAlertPercent: '',
  complaintRateAlertPercent: '',
  rulesBucket: '',
  rulesPrefix: '',
  rulesRefreshSeconds: '60',
  messagesUnreadableAlarmThreshold: '1',
  bouncesFailedAlarmThreshold: '1',
  messagesFailedAlarmThreshold: '1',
  eventsRejectedAlarmThreshold: '1',
  throttlesAlarmThreshold: '1',
  bounceConcurrency: '20',
  bounceRatePerSecond: '1',
}

describe('serverless/deploy-params.cjs', () => {
  it('accepts the defaults with recipients and a bounce sender', () => {
    expect(plugin.checkDeployParams(valid)).toEqual([])
    expect(plugin.reservedDomains(valid)).toEqual([])
  })

  it('lists every problem at once', () => {
    const problems = plugin.checkDeployParams({
      ...valid,
      recipients: 'acme.io, other.io',
      bounceSender: 'mailer-daemon',
      ruleSet: 'has space',
      createRuleSet: 'yes',
      mailPrefix: '/inbound',
      retentionDays: '0',
      tlsPolicy: 'require',
      invocationType: 'Async',
      alarmEmail: 'ops',
      quotaAlarmPercent: '120',
      alertEmailTo: 'ops@acme.io',
      sesConfigurationSet: 'ops mail',
      alertEmailTags: 'app=ses-bouncer,kind',
      quotaSchedule: 'every hour',
      complaintRateAlertPercent: 'lots',
    })
    expect(problems).toEqual([
      "recipients: 'acme.io, other.io': separate entries with a comma only, no spaces or empty entries",
      "bounceSender: expected an address like mailer-daemon@example.com, got 'mailer-daemon'",
      "ruleSet: 'has space' is not a rule set name (letters, digits, . _ -; at most 64)",
      "createRuleSet: expected one of true, false, got 'yes'",
      "tlsPolicy: expected one of Optional, Require, got 'require'",
      "invocationType: expected one of RequestResponse, Event, got 'Async'",
      "mailPrefix: expected a key prefix ending in '/', like inbound/, got '/inbound'",
      "retentionDays: expected a whole number of days, got '0'",
      "alarmEmail: expected an address like ops@example.com, got 'ops'",
      "quotaAlarmPercent: expected a percentage above 0 and at most 100, got '120'",
      'alertEmailFrom: required when alertEmailTo or digestEmailTo is set',
      "sesConfigurationSet: 'ops mail' is not a configuration set name",
      "alertEmailTags: 'kind' is not name=value with only letters, digits, _ and -",
      "quotaSchedule: expected rate(1 hour) or a cron(...) expression, got 'every hour'",
      "complaintRateAlertPercent: expected a percentage above 0 and at most 100, got 'lots'",
    ])
  })

  it('refuses a bounce sender or alarm address with a control or bidi character', () => {
    expect(
      plugin.checkDeployParams({
        ...valid,
        bounceSender: 'mailer\u202edaemon@acme.io',
        alarmEmail: 'ops\u0000@acme.io',
      }),
    ).toEqual([
      "bounceSender: expected an address like mailer-daemon@example.com, got 'mailer\\u{202e}daemon@acme.io'",
      "alarmEmail: expected an address like ops@example.com, got 'ops\\u{0}@acme.io'",
    ])
  })

  it('requires recipients and the bounce sender', () => {
    expect(plugin.checkDeployParams({ ...valid, recipients: '', bounceSender: '' })).toEqual([
      'recipients: required: the domains or addresses the receipt rule covers (--param recipients=example.com)',
      'bounceSender: required: the From of bounces, a verified SES identity (--param bounceSender=mailer-daemon@example.com)',
    ])
  })

  it('holds a receipt rule to SES’s 100 recipients', () => {
    const many = Array.from({ length: 101 }, (_, i) => `user${i}@acme.io`).join(',')
    expect(plugin.checkDeployParams({ ...valid, recipients: many })).toEqual([
      'recipients: at most 100 entries per receipt rule',
    ])
  })

  it('refuses a stage that would make an invalid bucket name', () => {
    expect(plugin.checkDeployParams({ ...valid, stage: 'Prod' })).toEqual([
      'stage: the mail bucket name ses-bouncer-Prod-mail-123456789012-us-east-1 would be invalid: use a shorter, lower-case stage',
    ])
    expect(
      plugin.checkDeployParams({ ...valid, stage: 'a-very-long-stage-name-x', region: 'ap-southeast-2' }),
    ).toHaveLength(1)
  })

  it('refuses reserved example domains before a deploy', () => {
    expect(
      plugin.reservedDomains({
        ...valid,
        recipients: 'example.com,acme.io,.mail.example.org',
        bounceSender: 'mailer-daemon@example.com',
        alertEmailTo: 'ops@acme.test',
      }),
    ).toEqual([
      'recipients: example.com is a reserved example domain (RFC 2606); name your own',
      'recipients: .mail.example.org is a reserved example domain (RFC 2606); name your own',
      'bounceSender: mailer-daemon@example.com is a reserved example domain (RFC 2606); name your own',
      'alertEmailTo: ops@acme.test is a reserved example domain (RFC 2606); name your own',
    ])
  })

  it('checks the alarm thresholds and the reserved concurrency', () => {
    expect(
      plugin.checkDeployParams({ ...valid, bouncesFailedAlarmThreshold: '25', bounceConcurrency: 'none' }),
    ).toEqual([])
    expect(
      plugin.checkDeployParams({
        ...valid,
        messagesUnreadableAlarmThreshold: '0',
        bouncesFailedAlarmThreshold: '1.5',
        messagesFailedAlarmThreshold: '',
        eventsRejectedAlarmThreshold: 'many',
        throttlesAlarmThreshold: '-1',
        bounceConcurrency: '0',
      }),
    ).toEqual([
      "messagesUnreadableAlarmThreshold: expected a whole number of at least 1 (per 5 minutes), got '0'",
      "bouncesFailedAlarmThreshold: expected a whole number of at least 1 (per 5 minutes), got '1.5'",
      "messagesFailedAlarmThreshold: expected a whole number of at least 1 (per 5 minutes), got ''",
      "eventsRejectedAlarmThreshold: expected a whole number of at least 1 (per 5 minutes), got 'many'",
      "throttlesAlarmThreshold: expected a whole number of at least 1 (per 5 minutes), got '-1'",
      "bounceConcurrency: expected the bounce function's reserved concurrency (a whole number of at least 1) or none, got '0'",
    ])
    expect(plugin.checkDeployParams({ ...valid, bounceConcurrency: 'unlimited' })).toHaveLength(1)
  })

  it('checks how addresses are logged, and the key that hash needs', () => {
    const key = 'a'.repeat(64)
    expect(plugin.checkDeployParams({ ...valid, logAddresses: 'domain' })).toEqual([])
    expect(plugin.checkDeployParams({ ...valid, logAddresses: 'hash', logAddressKey: key })).toEqual([])
    expect(plugin.checkDeployParams({ ...valid, logAddresses: 'hash' })).toEqual([
      'logAddressKey: required with logAddresses=hash: a secret of at least 32 characters (openssl rand -hex 32)',
    ])
    expect(plugin.checkDeployParams({ ...valid, logAddresses: 'hash', logAddressKey: 'short' })).toEqual([
      'logAddressKey: expected at least 32 characters, got 5',
    ])
    // the function trims the key: padding must not pass here and fail at cold start
    expect(
      plugin.checkDeployParams({ ...valid, logAddresses: 'hash', logAddressKey: `short${' '.repeat(40)}` }),
    ).toEqual(['logAddressKey: expected at least 32 characters, got 5'])
    expect(plugin.checkDeployParams({ ...valid, logAddresses: 'sha256' })).toEqual([
      "logAddresses: expected one of full, domain, hash, got 'sha256'",
    ])
  })

  it('checks the rules-from-S3 parameters', () => {
    expect(
      plugin.checkDeployParams({ ...valid, rulesBucket: 'acme-config', rulesPrefix: 'ses-bouncer/' }),
    ).toEqual([])
    expect(
      plugin.checkDeployParams({
        ...valid,
        rulesBucket: 'Bad_Bucket',
        rulesPrefix: 'no-slash',
        rulesRefreshSeconds: '0',
      }),
    ).toEqual([
      "rulesBucket: 'Bad_Bucket' is not an S3 bucket name",
      "rulesPrefix: expected a key prefix ending in '/', like ses-bouncer/, got 'no-slash'",
      "rulesRefreshSeconds: expected whole seconds from 1 to 86400, got '0'",
    ])
    expect(plugin.checkDeployParams({ ...valid, rulesPrefix: 'ses-bouncer/' })).toEqual([
      'rulesPrefix: needs rulesBucket',
    ])
  })

  it('takes the SendBounce rate as calls a second above 0, fractions included', () => {
    for (const rate of ['1', '0.5', '.25', '14', '100']) {
      expect(plugin.checkDeployParams({ ...valid, bounceRatePerSecond: rate }), rate).toEqual([])
    }
    for (const rate of ['0', '', '-1', '1/s', '1e3', '101', 'one']) {
      expect(plugin.checkDeployParams({ ...valid, bounceRatePerSecond: rate }), rate).toEqual([
        `bounceRatePerSecond: expected calls a second above 0 and at most 100, like 1 or 0.5, got '${rate}'`,
      ])
    }
  })
})
