'use strict'

const { rmSync, writeFileSync } = require('node:fs')
const { join } = require('node:path')
// The same reading of the template's conditions as `invoke local`'s.
const { evaluateIf } = require('./invoke-local.cjs')

/**
 * Rules checked before they ship. Before `serverless package` or `deploy` builds anything, each
 * function whose environment names a RULES_FILE gets that file checked with the function's own
 * environment by the code its cold start runs (src/runtime/package-rules.ts, through tsx), and
 * every problem is listed at once; an invalid file stops the package. A valid one is packaged
 * compiled: one JSON file with the text of every pattern file it names, read at cold start
 * without a YAML parser, and the function's RULES_FILE points at it.
 *
 * Rules from S3 (RULES_S3_URI) are read by the function at run time and checked then;
 * docs/deploy.md says how to check them first (`npx ses-bouncer validate`).
 */
class PackagedRules {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless
    this.log = log ?? { notice: console.log, warning: console.warn }
    /** Compiled files written into the service directory for the packager to pick up. */
    this.written = new Map()
    const cleanUp = () => this.removeWritten()
    this.hooks = {
      // Listed before serverless-esbuild in serverless.yml, so this runs before it bundles and zips.
      'before:package:createDeploymentArtifacts': () => this.packageRules(),
      'before:deploy:function:packageFunction': () => this.packageRules(options.function),
      'after:package:createDeploymentArtifacts': cleanUp,
      'after:deploy:function:packageFunction': cleanUp,
    }
  }

  async packageRules(only) {
    const { service } = this.serverless
    const serviceDir = this.serverless.serviceDir ?? this.serverless.config.servicePath
    const conditions = service.resources?.Conditions ?? {}
    for (const [name, fn] of Object.entries(service.functions ?? {})) {
      if (only !== undefined && name !== only) continue
      const declared = { ...service.provider.environment, ...fn.environment }
      if (!('RULES_FILE' in declared)) continue
      const env = environmentAtPackageTime(declared, conditions)
      env.AWS_REGION ??= service.provider.region
      if (env.RULES_FILE === undefined) {
        throw new this.serverless.classes.Error(
          `${name}: RULES_FILE is not known at package time, so its rules cannot be checked; give it a plain value`,
        )
      }
      if (env.RULES_FILE === '') {
        if (env.RULES_S3_URI) {
          this.log.notice(
            `${name}: rules from ${env.RULES_S3_URI} are read and checked by the function at run time; ` +
              'check them first with `npx ses-bouncer validate <rules file>` (docs/deploy.md)',
          )
        }
        continue
      }
      // The TypeScript sources themselves, as the CLI runs them (bin/ses-bouncer.mjs).
      const { tsImport } = await import('tsx/esm/api')
      const { packageRules } = await tsImport('../src/runtime/package-rules.ts', __filename)
      const deployTime = Object.keys(env).filter((variable) => env[variable] === standIn(variable))
      let packaged
      try {
        packaged = await packageRules(env, serviceDir, undefined, deployTime)
      } catch (error) {
        if (!Array.isArray(error?.problems)) throw error
        throw new this.serverless.classes.Error(
          `${name}: ${env.RULES_FILE} is not valid, nothing was packaged. ${error.message}\n` +
            'Check it with `npx ses-bouncer validate <rules file>`.',
        )
      }
      this.write(packaged)
      fn.environment = { ...fn.environment, RULES_FILE: packaged.compiledName }
      fn.package = { ...fn.package, patterns: [...(fn.package?.patterns ?? []), packaged.compiledName] }
      const lists =
        packaged.patternFiles.length > 0 ? `, pattern files ${packaged.patternFiles.join(', ')}` : ''
      this.log.notice(
        `${name}: ${env.RULES_FILE} checked, ${packaged.ruleNames.length} rule${packaged.ruleNames.length === 1 ? '' : 's'}${lists}; packaged as ${packaged.compiledName}`,
      )
      for (const warning of packaged.warnings) this.log.warning(`${name}: ${warning}`)
    }
  }

  write({ compiledName, text, source }) {
    const earlier = this.written.get(compiledName)
    if (earlier !== undefined && earlier.text !== text) {
      throw new this.serverless.classes.Error(
        `${source} and ${earlier.source} would both be packaged as ${compiledName}; give one another name`,
      )
    }
    const serviceDir = this.serverless.serviceDir ?? this.serverless.config.servicePath
    writeFileSync(join(serviceDir, compiledName), text)
    this.written.set(compiledName, { text, source })
  }

  removeWritten() {
    const serviceDir = this.serverless.serviceDir ?? this.serverless.config.servicePath
    for (const compiledName of this.written.keys()) rmSync(join(serviceDir, compiledName), { force: true })
    this.written.clear()
  }
}

/**
 * The environment as CloudFormation will set it, where the template already decides it: plain
 * values, and Fn::If on conditions that compare plain values (`RulesFromS3`). Anything else (a
 * Ref, GetAtt, Sub) is only known at deploy time and is given a stand-in value.
 */
function environmentAtPackageTime(environment, conditions) {
  const env = {}
  for (const [name, value] of Object.entries(environment)) {
    const known = packageTimeValue(value, conditions, name)
    env[name] = known === UNKNOWN ? (name === 'RULES_FILE' ? undefined : standIn(name)) : known
  }
  return env
}

const UNKNOWN = Symbol('unknown at package time')

/** What a variable only CloudFormation can give is checked with: present, of no particular form. */
const standIn = (name) => `<${name} set by CloudFormation>`

function packageTimeValue(node, conditions, name) {
  if (typeof node === 'string') return node
  if (typeof node === 'number' || typeof node === 'boolean') return String(node)
  if (!Array.isArray(node?.['Fn::If'])) return UNKNOWN
  try {
    return packageTimeValue(evaluateIf(node['Fn::If'], conditions, name), conditions, name)
  } catch {
    return UNKNOWN
  }
}

module.exports = PackagedRules
module.exports.environmentAtPackageTime = environmentAtPackageTime
