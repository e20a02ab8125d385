'use strict'

/**
 * Checks the deploy parameters (serverless.yml `params`, `--param name=value`) before anything is
 * packaged, and lists every problem at once, so a typo fails here, offline, rather than half way
 * through a CloudFormation update. Before a deploy it also refuses the reserved example domains
 * that stage "dev" carries as placeholders for `npm run package`.
 */

// Kept equal to mailAddress in src/config/environment.ts.
const ADDRESS = /^[^\s@<>"(),;:[\]\\\p{Cc}\p{Cf}]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/u
// SES receipt rule recipients: an address, a domain, or a leading-dot domain for its subdomains.
const DOMAIN = /^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/
// Receipt rule and rule set names: letters, digits, . _ -, starting and ending with a letter or
// digit, at most 64 characters (SES API reference: ReceiptRule, CreateReceiptRuleSet).
const SES_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/
const CONFIGURATION_SET = /^[A-Za-z0-9_-]{1,64}$/
// RFC 2606 and RFC 6761: never a real mail domain.
const RESERVED_DOMAIN = /(^|\.)(example\.(com|net|org)|example|test|invalid|localhost)$/i
const MAX_RECIPIENTS = 100 // per receipt rule (SES quotas)
const BOOLEAN = ['true', 'false']
// The function refuses a shorter key at cold start (src/config/log-addresses.ts).
const MIN_LOG_ADDRESS_KEY = 32

const text = (value) => (value === undefined || value === null ? '' : String(value))
const list = (value) =>
  text(value)
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
const domainOf = (entry) => entry.slice(entry.lastIndexOf('@') + 1).replace(/^\./, '')

/** Every problem with the parameters, as `name: message`; empty when all is well. */
function checkDeployParams(p) {
  const problems = []
  // A control or bidi character in a value is shown as \u{…}, never sent to the terminal as is.
  const problem = (name, message) =>
    problems.push(
      `${name}: ${message.replace(/[\p{Cc}\p{Cf}]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`)}`,
    )
  const oneOf = (name, allowed) => {
    if (!allowed.includes(text(p[name])))
      problem(name, `expected one of ${allowed.join(', ')}, got '${text(p[name])}'`)
  }
  const optionalAddress = (name) => {
    const value = text(p[name])
    if (value !== '' && !ADDRESS.test(value))
      problem(name, `expected an address like ops@example.com, got '${value}'`)
  }
  const optionalAddressList = (name) => {
    for (const entry of list(p[name])) {
      if (!ADDRESS.test(entry)) problem(name, `'${entry}' is not an address`)
    }
  }
  const optionalPercent = (name) => {
    const value = text(p[name])
    if (value === '') return
    const number = Number(value)
    if (!Number.isFinite(number) || number <= 0 || number > 100) {
      problem(name, `expected a percentage above 0 and at most 100, got '${value}'`)
    }
  }

  const recipients = text(p.recipients)
  if (recipients.trim() === '') {
    problem(
      'recipients',
      'required: the domains or addresses the receipt rule covers (--param recipients=example.com)',
    )
  } else {
    const entries = recipients.split(',')
    if (entries.length > MAX_RECIPIENTS)
      problem('recipients', `at most ${MAX_RECIPIENTS} entries per receipt rule`)
    for (const entry of entries) {
      if (entry !== entry.trim() || entry === '') {
        problem(
          'recipients',
          `'${recipients}': separate entries with a comma only, no spaces or empty entries`,
        )
        break
      }
      if (!ADDRESS.test(entry) && !DOMAIN.test(entry)) {
        problem('recipients', `'${entry}' is neither a domain nor an address`)
      }
    }
  }
  const bounceSender = text(p.bounceSender)
  if (bounceSender === '') {
    problem(
      'bounceSender',
      'required: the From of bounces, a verified SES identity (--param bounceSender=mailer-daemon@example.com)',
    )
  } else if (!ADDRESS.test(bounceSender)) {
    problem('bounceSender', `expected an address like mailer-daemon@example.com, got '${bounceSender}'`)
  }

  if (!SES_NAME.test(text(p.ruleSet))) {
    problem('ruleSet', `'${text(p.ruleSet)}' is not a rule set name (letters, digits, . _ -; at most 64)`)
  }
  if (!SES_NAME.test(text(p.ruleName))) {
    problem(
      'stage',
      `the rule name '${text(p.ruleName)}' it makes is not valid (letters, digits, . _ -; at most 64)`,
    )
  }
  oneOf('createRuleSet', BOOLEAN)
  oneOf('activateRuleSet', BOOLEAN)
  oneOf('replaceActiveRuleSet', BOOLEAN)
  oneOf('dryRun', BOOLEAN)
  oneOf('tlsPolicy', ['Optional', 'Require'])
  oneOf('invocationType', ['RequestResponse', 'Event'])
  oneOf('logAddresses', ['full', 'domain', 'hash'])
  // trimmed, as the function trims LOG_ADDRESS_KEY (src/config/log-addresses.ts)
  const logAddressKey = text(p.logAddressKey).trim()
  if (text(p.logAddresses) === 'hash' && logAddressKey.length < MIN_LOG_ADDRESS_KEY) {
    problem(
      'logAddressKey',
      logAddressKey === ''
        ? `required with logAddresses=hash: a secret of at least ${MIN_LOG_ADDRESS_KEY} characters (openssl rand -hex 32)`
        : `expected at least ${MIN_LOG_ADDRESS_KEY} characters, got ${logAddressKey.length}`,
    )
  }

  const prefix = text(p.mailPrefix)
  if (!/^[A-Za-z0-9!_.*'()/-]+\/$/.test(prefix) || prefix.startsWith('/')) {
    problem('mailPrefix', `expected a key prefix ending in '/', like inbound/, got '${prefix}'`)
  }
  const retention = text(p.retentionDays)
  if (!/^[1-9][0-9]*$/.test(retention))
    problem('retentionDays', `expected a whole number of days, got '${retention}'`)

  optionalAddress('alarmEmail')
  optionalPercent('quotaAlarmPercent')
  if (text(p.quotaAlarmPercent) === '') problem('quotaAlarmPercent', 'required (default 80)')
  optionalAddressList('alertEmailTo')
  optionalAddressList('digestEmailTo')
  optionalAddress('alertEmailFrom')
  if (
    text(p.alertEmailFrom) === '' &&
    (list(p.alertEmailTo).length > 0 || list(p.digestEmailTo).length > 0)
  ) {
    problem('alertEmailFrom', 'required when alertEmailTo or digestEmailTo is set')
  }
  const configurationSet = text(p.sesConfigurationSet)
  if (configurationSet !== '' && !CONFIGURATION_SET.test(configurationSet)) {
    problem('sesConfigurationSet', `'${configurationSet}' is not a configuration set name`)
  }
  const tags = text(p.alertEmailTags)
  for (const entry of list(tags)) {
    if (!/^[A-Za-z0-9_-]{1,256}=[A-Za-z0-9_-]{1,256}$/.test(entry)) {
      problem('alertEmailTags', `'${entry}' is not name=value with only letters, digits, _ and -`)
    }
  }
  const schedule = text(p.quotaSchedule)
  if (!/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^()]+\))$/.test(schedule)) {
    problem('quotaSchedule', `expected rate(1 hour) or a cron(...) expression, got '${schedule}'`)
  }
  optionalPercent('quotaAlertPercent')
  optionalPercent('bounceRateAlertPercent')
  optionalPercent('complaintRateAlertPercent')

  for (const name of [
    'messagesUnreadableAlarmThreshold',
    'bouncesFailedAlarmThreshold',
    'messagesFailedAlarmThreshold',
    'eventsRejectedAlarmThreshold',
    'throttlesAlarmThreshold',
  ]) {
    const value = text(p[name])
    if (!/^[1-9][0-9]{0,5}$/.test(value)) {
      problem(name, `expected a whole number of at least 1 (per 5 minutes), got '${value}'`)
    }
  }
  // Reserved concurrency: 0 would stop the function altogether, so it is refused; "none" reserves
  // nothing. Lambda itself refuses a reservation that leaves fewer than 100 unreserved.
  const concurrency = text(p.bounceConcurrency)
  if (concurrency !== 'none' && !/^[1-9][0-9]{0,4}$/.test(concurrency)) {
    problem(
      'bounceConcurrency',
      `expected the bounce function's reserved concurrency (a whole number of at least 1) or none, got '${concurrency}'`,
    )
  }

  const rulesBucket = text(p.rulesBucket)
  if (rulesBucket !== '' && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(rulesBucket)) {
    problem('rulesBucket', `'${rulesBucket}' is not an S3 bucket name`)
  }
  const rulesPrefix = text(p.rulesPrefix)
  if (rulesPrefix !== '' && (!/^[A-Za-z0-9!_.*'()/-]+\/$/.test(rulesPrefix) || rulesPrefix.startsWith('/'))) {
    problem('rulesPrefix', `expected a key prefix ending in '/', like ses-bouncer/, got '${rulesPrefix}'`)
  }
  if (rulesBucket === '' && rulesPrefix !== '') problem('rulesPrefix', 'needs rulesBucket')
  const refresh = text(p.rulesRefreshSeconds)
  if (!/^[1-9][0-9]*$/.test(refresh) || Number(refresh) > 86_400) {
    problem('rulesRefreshSeconds', `expected whole seconds from 1 to 86400, got '${refresh}'`)
  }

  // SendBounce calls a second for the whole account (src/config/sender-config.ts checks the same).
  const rate = text(p.bounceRatePerSecond)
  if (!/^(\d+(\.\d+)?|\.\d+)$/.test(rate) || Number(rate) <= 0 || Number(rate) > 100) {
    problem(
      'bounceRatePerSecond',
      `expected calls a second above 0 and at most 100, like 1 or 0.5, got '${rate}'`,
    )
  }

  // S3 bucket names: at most 63 characters, lower case (the account id is always 12 digits).
  const bucket = `${text(p.service)}-${text(p.stage)}-mail-123456789012-${text(p.region)}`
  if (bucket.length > 63 || bucket !== bucket.toLowerCase()) {
    problem('stage', `the mail bucket name ${bucket} would be invalid: use a shorter, lower-case stage`)
  }
  return problems
}

/** Addresses and domains under reserved example domains: placeholders, never deployable. */
function reservedDomains(p) {
  const entries = [
    ...list(p.recipients).map((entry) => ['recipients', entry]),
    ['bounceSender', text(p.bounceSender)],
    ['alarmEmail', text(p.alarmEmail)],
    ['alertEmailFrom', text(p.alertEmailFrom)],
    ...list(p.alertEmailTo).map((entry) => ['alertEmailTo', entry]),
    ...list(p.digestEmailTo).map((entry) => ['digestEmailTo', entry]),
  ]
  return entries
    .filter(([, entry]) => entry !== '' && RESERVED_DOMAIN.test(domainOf(entry)))
    .map(([name, entry]) => `${name}: ${entry} is a reserved example domain (RFC 2606); name your own`)
}

class DeployParams {
  constructor(serverless, options) {
    const stage = () => options.stage ?? serverless.service.provider.stage
    const params = () => serverless.service.custom?.deployParams ?? {}
    const fail = (problems) => {
      if (problems.length === 0) return
      throw new serverless.classes.Error(
        `Invalid deploy parameters (${problems.length}):\n  - ${problems.join('\n  - ')}\n` +
          'Set them with --param name=value (README "Deploy").',
      )
    }
    this.hooks = {
      // Stage "local" is refused by the local-stage guard before this runs.
      'before:package:initialize': () => {
        if (stage() !== 'local') fail(checkDeployParams(params()))
      },
      'before:deploy:deploy': () => fail([...checkDeployParams(params()), ...reservedDomains(params())]),
    }
  }
}

module.exports = DeployParams
module.exports.checkDeployParams = checkDeployParams
module.exports.reservedDomains = reservedDomains
