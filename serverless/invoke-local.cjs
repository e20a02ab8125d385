'use strict'

const { existsSync, mkdtempSync, symlinkSync } = require('node:fs')
const { tmpdir } = require('node:os')
const path = require('node:path')

/**
 * `serverless invoke local`, as an operator expects it to behave:
 *
 * - Relative paths (RULES_FILE, MAIL_DIR) resolve from the project root, whether they come from
 *   `-e` or from serverless.yml; the handler itself runs inside .esbuild/.build.
 * - `-e NAME=` sets NAME to the empty string, which unsets a setting (the Framework would drop it).
 * - Environment values that only CloudFormation can give (`Fn::If` on a template condition) are
 *   worked out here, so a real stage such as `--stage dev` runs; a value given with `-e` is never
 *   looked up in the deployed stack.
 * - An event from `ses-bouncer event x.eml` names its message file: unless MAIL_DIR or MAIL_BUCKET
 *   is given with `-e`, the handler reads the message from that file.
 * - Stage `local` never reaches AWS: SES calls go to `npm run local-ses` on 127.0.0.1:4579 unless
 *   AWS_ENDPOINT_URL_SES says otherwise, and placeholder credentials stand in when none exist.
 * - The bounce queue's URLs (a Ref only CloudFormation can give) are left out on every stage
 *   unless given with `-e`: invoke local sends bounces inline, as it always has, and never puts
 *   one on a deployed stack's queue by accident.
 */

const PATH_VARIABLES = ['RULES_FILE', 'MAIL_DIR']
const QUEUE_VARIABLES = ['BOUNCE_QUEUE_URL', 'BOUNCE_DEAD_LETTER_URL']
const LOCAL_MESSAGE_KEY = 'sesBouncerLocal' // src/cli/event.ts
const LOCAL_SES = 'http://127.0.0.1:4579' // scripts/local-ses.ts

class InvokeLocal {
  constructor(serverless, options) {
    this.serverless = serverless
    this.options = options
    this.hooks = {
      initialize: () => this.prepareEnvironment(),
      'after:invoke:local:loadEnvVars': () => this.settleEnvironment(),
    }
  }

  isInvokeLocal() {
    const commands = this.serverless.processedInput?.commands ?? []
    return commands[0] === 'invoke' && commands[1] === 'local'
  }

  /** `-e NAME=value` pairs, an empty value kept. */
  commandLineEnv() {
    const entries = [].concat(this.options.env ?? []).map((entry) => {
      const equals = String(entry).indexOf('=')
      return equals === -1 ? [String(entry), ''] : [entry.slice(0, equals), entry.slice(equals + 1)]
    })
    return new Map(entries)
  }

  prepareEnvironment() {
    if (!this.isInvokeLocal()) return
    const fn = this.serverless.service.getFunction(this.options.function)
    const given = this.commandLineEnv()
    const environments = [this.serverless.service.provider.environment ?? {}, fn.environment ?? {}]
    const conditions = this.serverless.service.resources?.Conditions ?? {}
    for (const environment of environments) {
      for (const [name, value] of Object.entries(environment)) {
        if (given.has(name)) delete environment[name]
        else if (QUEUE_VARIABLES.includes(name) && value !== null && typeof value === 'object') {
          delete environment[name]
        } else if (value !== null && typeof value === 'object' && 'Fn::If' in value) {
          try {
            environment[name] = evaluateIf(value['Fn::If'], conditions, name)
          } catch (error) {
            throw new this.serverless.classes.Error(error.message)
          }
        }
      }
    }
    const messageFile = this.localMessageFile()
    if (messageFile !== undefined && !given.has('MAIL_DIR') && !given.has('MAIL_BUCKET')) {
      fn.environment = fn.environment ?? {}
      const environment = fn.environment
      environment.MAIL_DIR = messageDirectory(messageFile.file, messageFile.messageId)
      delete environment.MAIL_BUCKET
      delete environment.MAIL_PREFIX
    }
  }

  /** The message file an event from `ses-bouncer event` names, if the event given is one. */
  localMessageFile() {
    let event = this.options.data
    if (event === undefined && this.options.path !== undefined) {
      const file = path.resolve(this.serverless.serviceDir, this.options.path)
      if (!existsSync(file) || !file.endsWith('.json')) return undefined
      try {
        event = this.serverless.utils.readFileSync(file)
      } catch {
        return undefined
      }
    }
    if (typeof event === 'string') {
      try {
        event = JSON.parse(event)
      } catch {
        return undefined
      }
    }
    const file = event?.[LOCAL_MESSAGE_KEY]?.messageFile
    const messageId = event?.Records?.[0]?.ses?.mail?.messageId
    if (typeof file !== 'string' || typeof messageId !== 'string') return undefined
    if (!existsSync(file)) {
      throw new this.serverless.classes.Error(`The event names ${file} as its message, which does not exist`)
    }
    return { file, messageId }
  }

  settleEnvironment() {
    for (const [name, value] of this.commandLineEnv()) {
      if (value === '') {
        process.env[name] = ''
        delete process.env[`${name}=`]
      }
    }
    for (const name of PATH_VARIABLES) {
      const value = process.env[name]
      if (value !== undefined && value.trim() !== '' && !path.isAbsolute(value)) {
        process.env[name] = path.resolve(this.serverless.serviceDir, value)
      }
    }
    if ((this.options.stage ?? this.serverless.service.provider.stage) === 'local') {
      process.env.AWS_ENDPOINT_URL_SES ||= LOCAL_SES
      if (!process.env.AWS_ACCESS_KEY_ID) {
        process.env.AWS_ACCESS_KEY_ID = 'local'
        process.env.AWS_SECRET_ACCESS_KEY = 'local'
      }
    }
  }
}

/** `<messageId>.eml` in a directory: the message's own, or a scratch one with a link to it. */
function messageDirectory(file, messageId) {
  if (path.basename(file) === `${messageId}.eml`) return path.dirname(file)
  const directory = mkdtempSync(path.join(tmpdir(), 'ses-bouncer-invoke-'))
  symlinkSync(file, path.join(directory, `${messageId}.eml`))
  return directory
}

/** `Fn::If` over the template's conditions, whose operands are plain strings once parameters are resolved. */
function evaluateIf([condition, whenTrue, whenFalse], conditions, name) {
  return evaluateCondition({ Condition: condition }, conditions, name) ? whenTrue : whenFalse
}

function evaluateCondition(expression, conditions, name) {
  if (typeof expression === 'boolean') return expression
  if (expression?.Condition !== undefined) {
    const defined = conditions[expression.Condition]
    if (defined === undefined) throw unresolvable(name, `condition ${expression.Condition} is not defined`)
    return evaluateCondition(defined, conditions, name)
  }
  if (expression?.['Fn::Equals'] !== undefined) {
    const [a, b] = expression['Fn::Equals']
    if (typeof a !== 'string' || typeof b !== 'string')
      throw unresolvable(name, 'Fn::Equals compares stack values')
    return a === b
  }
  if (expression?.['Fn::Not'] !== undefined)
    return !evaluateCondition(expression['Fn::Not'][0], conditions, name)
  if (expression?.['Fn::And'] !== undefined) {
    return expression['Fn::And'].every((item) => evaluateCondition(item, conditions, name))
  }
  if (expression?.['Fn::Or'] !== undefined) {
    return expression['Fn::Or'].some((item) => evaluateCondition(item, conditions, name))
  }
  throw unresolvable(name, `unsupported condition ${JSON.stringify(expression)}`)
}

function unresolvable(name, reason) {
  return new Error(`invoke local cannot work out ${name} (${reason}): give it with -e ${name}=…`)
}

module.exports = InvokeLocal
module.exports.evaluateIf = evaluateIf
