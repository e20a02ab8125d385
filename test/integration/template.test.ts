import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type WorkCopy, workCopy } from '../../scripts/work-copy.js'
import { PACKAGE_TIMEOUT_MS, packageIn } from '../support/packaging.js'

/**
 * `npm run package` (serverless package --stage dev) with no credentials and no network, and the
 * CloudFormation it generates, checked resource by resource. Each run works in its own copy of
 * the repository, so a developer's .serverless/ and .esbuild/ are never touched: osls always
 * builds into <service>/.serverless, even with --package.
 */

const run = promisify(execFile)
const ACCOUNT = '123456789012'
const REGION = 'us-east-1'

/** What the CloudFormation template would hold once deployed to account 123456789012 in us-east-1. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }
interface Resource {
  Type: string
  Condition?: string
  DependsOn?: string | string[]
  Properties: JsonObject
}
interface Template {
  Resources: Record<string, Resource>
  Outputs: Record<string, JsonObject>
  /** The template as packaged, before any evaluation. */
  raw: string
}

const copies: WorkCopy[] = []

/** A copy of the repository to package in (scripts/work-copy.ts: node_modules linked, a home of its own). */
function freshCopy(): WorkCopy {
  const copy = workCopy()
  copies.push(copy)
  return copy
}

/** Runs package.json's own `package` script (or the given serverless arguments) and loads the template. */
async function packageTemplate(args?: string[]): Promise<Template> {
  const copy = freshCopy()
  const cwd = copy.root
  if (args === undefined) {
    const packaged = await packageIn(copy)
    if (packaged.code !== 0)
      throw new Error(`npm run package failed:\n${packaged.stdout}\n${packaged.stderr}`)
  } else {
    await run('serverless', args, { cwd, env: copy.env(), timeout: PACKAGE_TIMEOUT_MS })
  }
  const raw = readFileSync(join(cwd, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8')
  return { ...evaluate(JSON.parse(raw) as JsonObject), raw }
}

async function packageFails(args: string[]): Promise<string> {
  const copy = freshCopy()
  try {
    await run('serverless', args, { cwd: copy.root, env: copy.env(), timeout: PACKAGE_TIMEOUT_MS })
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    return `${stdout}\n${stderr}`
  }
  throw new Error(`serverless ${args.join(' ')} succeeded`)
}

// ------------------------------------------------------------------ a small CloudFormation evaluator

const NO_VALUE = Symbol('AWS::NoValue')

/**
 * Resolves conditions, Fn::If, Fn::Sub, Fn::Split, Ref and the Fn::GetAtt attributes the checks
 * need, as CloudFormation would; resources whose condition is false are dropped. Refs to
 * resources become their physical names where the template fixes them, else `<LogicalId>`.
 */
function evaluate(template: JsonObject): Omit<Template, 'raw'> {
  const resources = template.Resources as unknown as Record<string, Resource>
  const conditionDefs = (template.Conditions ?? {}) as JsonObject
  const conditions = new Map<string, boolean>()
  const condition = (name: string): boolean => {
    const known = conditions.get(name)
    if (known !== undefined) return known
    const value = truth(conditionDefs[name] ?? null)
    conditions.set(name, value)
    return value
  }
  const truth = (node: Json): boolean => {
    const [fn, arg] = Object.entries(node as JsonObject)[0] ?? []
    const args = arg as Json[]
    switch (fn) {
      case 'Condition':
        return condition(arg as string)
      case 'Fn::Equals':
        return value(args[0] ?? null) === value(args[1] ?? null)
      case 'Fn::Not':
        return !truth(args[0] ?? null)
      case 'Fn::And':
        return args.every(truth)
      case 'Fn::Or':
        return args.some(truth)
      default:
        throw new Error(`unsupported condition ${JSON.stringify(node)}`)
    }
  }
  const physicalName = (id: string): string => {
    const resource = resources[id]
    if (resource === undefined) throw new Error(`Ref to unknown resource ${id}`)
    const p = resource.Properties
    const name =
      p.BucketName ??
      p.TableName ??
      p.QueueName ??
      p.RuleSetName ??
      p.FunctionName ??
      p.TopicName ??
      p.LogGroupName
    return name === undefined ? `<${id}>` : String(value(name))
  }
  const ref = (name: string): string | typeof NO_VALUE => {
    if (name === 'AWS::AccountId') return ACCOUNT
    if (name === 'AWS::Region') return REGION
    if (name === 'AWS::Partition') return 'aws'
    if (name === 'AWS::NoValue') return NO_VALUE
    if (resources[name]?.Type === 'AWS::SQS::Queue')
      return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physicalName(name)}`
    if (resources[name]?.Type === 'AWS::SNS::Topic')
      return `arn:aws:sns:${REGION}:${ACCOUNT}:${physicalName(name)}`
    return physicalName(name)
  }
  const getAtt = (id: string, attribute: string): string => {
    const type = resources[id]?.Type
    const name = physicalName(id)
    if (attribute === 'Arn' && type === 'AWS::S3::Bucket') return `arn:aws:s3:::${name}`
    if (attribute === 'Arn' && type === 'AWS::DynamoDB::Table')
      return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`
    if (attribute === 'Arn' && type === 'AWS::SQS::Queue') return `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`
    if (attribute === 'QueueName' && type === 'AWS::SQS::Queue') return name
    if (attribute === 'Arn' && type === 'AWS::Lambda::Function')
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`
    if (attribute === 'Arn' && type === 'AWS::Logs::LogGroup')
      return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`
    return `<${id}.${attribute}>`
  }
  const sub = (text: string): string =>
    text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (name.includes('::')) return String(ref(name))
      const [id = '', attribute] = name.split('.')
      return attribute === undefined ? String(ref(id)) : getAtt(id, attribute)
    })
  const value = (node: Json): Json | typeof NO_VALUE => {
    if (Array.isArray(node)) {
      return node.map(value).filter((item): item is Json => item !== NO_VALUE)
    }
    if (node === null || typeof node !== 'object') return node
    const entries = Object.entries(node)
    const [fn, arg] = entries[0] ?? []
    if (entries.length === 1 && fn !== undefined && arg !== undefined) {
      const args = arg as Json[]
      switch (fn) {
        case 'Ref':
          return ref(arg as string)
        case 'Fn::GetAtt':
          return getAtt(String(args[0]), String(args[1]))
        case 'Fn::Sub':
          return sub(arg as string)
        case 'Fn::If':
          return value(condition(String(args[0])) ? (args[1] ?? null) : (args[2] ?? null))
        case 'Fn::Split':
          return String(value(args[1] ?? null)).split(String(args[0]))
        case 'Fn::Join':
          return (value(args[1] ?? null) as Json[]).map(String).join(String(args[0]))
      }
    }
    const out: JsonObject = {}
    for (const [key, child] of entries) {
      const resolved = value(child)
      if (resolved !== NO_VALUE) out[key] = resolved
    }
    return out
  }

  const evaluated: Record<string, Resource> = {}
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Condition !== undefined && !condition(resource.Condition)) continue
    evaluated[id] = value(resource as unknown as Json) as unknown as Resource
  }
  const outputs: Record<string, JsonObject> = {}
  for (const [id, output] of Object.entries((template.Outputs ?? {}) as Record<string, JsonObject>)) {
    if (typeof output.Condition === 'string' && !condition(output.Condition)) continue
    outputs[id] = value(output) as JsonObject
  }
  return { Resources: evaluated, Outputs: outputs }
}

// ------------------------------------------------------------------ helpers over the evaluated template

interface Statement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Principal?: Json
  Action: string | string[]
  Resource: string | string[]
  Condition?: JsonObject
}

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value]

function resource(template: Template, id: string, type: string): JsonObject {
  const found = template.Resources[id]
  expect(found, `${id} in the template`).toBeDefined()
  expect(found?.Type).toBe(type)
  return found?.Properties ?? {}
}

function ofType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type)
}

/** Every IAM statement in the template, wherever it sits, with where it came from. */
function allStatements(template: Template): { where: string; statement: Statement }[] {
  const found: { where: string; statement: Statement }[] = []
  for (const [id, r] of Object.entries(template.Resources)) {
    const documents: { where: string; doc: JsonObject }[] = []
    if (r.Type === 'AWS::IAM::Role') {
      for (const policy of asList(r.Properties.Policies as JsonObject[])) {
        documents.push({ where: `${id}/${policy.PolicyName}`, doc: policy.PolicyDocument as JsonObject })
      }
    }
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy' || r.Type.endsWith('Policy')) {
      const doc = r.Properties.PolicyDocument as JsonObject | undefined
      if (doc !== undefined) documents.push({ where: id, doc })
    }
    for (const { where, doc } of documents) {
      for (const statement of asList(doc.Statement as unknown as Statement[]))
        found.push({ where, statement })
    }
  }
  return found
}

/** A role's inline statements by Sid, each action list sorted. */
function roleStatements(template: Template, roleId: string): Record<string, Omit<Statement, 'Sid'>> {
  const role = resource(template, roleId, 'AWS::IAM::Role')
  const byId: Record<string, Omit<Statement, 'Sid'>> = {}
  for (const policy of asList(role.Policies as JsonObject[])) {
    for (const { Sid, ...rest } of asList(
      (policy.PolicyDocument as JsonObject).Statement as unknown as Statement[],
    )) {
      expect(Sid, `every statement of ${roleId} has a Sid`).toBeDefined()
      byId[Sid ?? ''] = { ...rest, Action: [...asList(rest.Action)].sort() }
    }
  }
  return byId
}

const lambdaTrust = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
}

// Actions with no resource type in IAM (Service Authorization Reference, Amazon SES): "*" is the
// only resource they take. Nothing else may use "*".
const STAR_ONLY_ACTIONS = new Set([
  'ses:GetSendQuota',
  'ses:GetSendStatistics',
  'ses:DescribeActiveReceiptRuleSet',
  'ses:SetActiveReceiptRuleSet',
])

// ------------------------------------------------------------------ the checks

let dev: Template
let variant: Template

const RULE_ARN = `arn:aws:ses:${REGION}:${ACCOUNT}:receipt-rule-set/ses-bouncer-dev:receipt-rule/ses-bouncer-dev-bounce`
const BUCKET = `ses-bouncer-dev-mail-${ACCOUNT}-${REGION}`
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/ses-bouncer-dev-state`
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:ses-bouncer-dev-bounce`
const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:ses-bouncer-dev-bounces`
const QUEUE_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/ses-bouncer-dev-bounces`
const DEAD_LETTER_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:ses-bouncer-dev-bounces-dead`
const DEAD_LETTER_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/ses-bouncer-dev-bounces-dead`

let refusedProd: string
let refusedLocal: string

// All four runs at once: each package takes a few seconds, mostly esbuild.
beforeAll(async () => {
  ;[dev, variant, refusedProd, refusedLocal] = await Promise.all([
    packageTemplate(),
    packageTemplate([
      'package',
      '--stage',
      'dev',
      ...[
        'recipients=acme.example.org,.lists.acme.example.org,help@acme.example.net',
        'bounceSender=postmaster@acme.example.org',
        'createRuleSet=false',
        'ruleSet=acme-inbound',
        'invocationType=Event',
        'tlsPolicy=Require',
        'mailPrefix=mail/',
        'retentionDays=3',
        'alarmEmail=ops@acme.example.org',
        'quotaAlarmPercent=90',
        'alertEmailFrom=health@acme.example.org',
        'alertEmailTo=ops@acme.example.org',
        'sesConfigurationSet=ops-mail',
        'rulesBucket=acme-config',
        'rulesPrefix=ses-bouncer/',
        'messagesUnreadableAlarmThreshold=3',
        'bouncesFailedAlarmThreshold=5',
        'messagesFailedAlarmThreshold=2',
        'eventsRejectedAlarmThreshold=4',
        'throttlesAlarmThreshold=10',
        'bounceConcurrency=none',
        'bounceRatePerSecond=0.5',
        'logAddresses=hash',
        'logAddressKey=0123456789abcdef0123456789abcdef',
      ].flatMap((param) => ['--param', param]),
    ]),
    packageFails([
      'package',
      '--stage',
      'prod',
      '--param',
      'tlsPolicy=Sometimes',
      '--param',
      'mailPrefix=inbound',
    ]),
    packageFails(['package', '--stage', 'local']),
  ])
}, PACKAGE_TIMEOUT_MS)

afterAll(() => {
  for (const copy of copies) copy.remove()
})

describe('npm run package: the whole stack as CloudFormation, offline', () => {
  it('builds the stack with no credentials and no network: one role per function, no shared default role', () => {
    expect(Object.keys(dev.Resources)).not.toContain('IamRoleLambdaExecution')
    const functions = ofType(dev, 'AWS::Lambda::Function')
    expect(functions.map(([id]) => id).sort()).toEqual([
      'ActivateRuleSetLambdaFunction',
      'BounceLambdaFunction',
      'QuotaLambdaFunction',
      'SendBouncesLambdaFunction',
    ])
    for (const [, f] of functions) expect(f.Properties.Role).toMatch(/^<\w+Role\.Arn>$/)
    expect(new Set(functions.map(([, f]) => f.Properties.Role)).size).toBe(4)
    for (const [, role] of ofType(dev, 'AWS::IAM::Role')) {
      expect(role.Properties.AssumeRolePolicyDocument).toEqual(lambdaTrust)
      expect(role.Properties.ManagedPolicyArns).toBeUndefined()
    }
  })

  it('stores mail in an encrypted, private, TLS-only bucket that forgets it after the retention days', () => {
    const bucket = resource(dev, 'MailBucket', 'AWS::S3::Bucket')
    expect(bucket.BucketName).toBe(BUCKET)
    expect(bucket.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    })
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    })
    const [rule, ...others] = asList((bucket.LifecycleConfiguration as JsonObject).Rules as JsonObject[])
    expect(others).toEqual([])
    expect(rule).toMatchObject({ Status: 'Enabled' })
    expect(Number(rule?.ExpirationInDays)).toBe(14)
    // SES cannot write to a bucket with Object Lock's default retention.
    expect(bucket.ObjectLockEnabled).toBeUndefined()
    expect(bucket.ObjectLockConfiguration).toBeUndefined()

    const variantRule = asList(
      (resource(variant, 'MailBucket', 'AWS::S3::Bucket').LifecycleConfiguration as JsonObject)
        .Rules as JsonObject[],
    )[0]
    expect(Number(variantRule?.ExpirationInDays)).toBe(3)
  })

  it('lets only SES put objects, only under the prefix, only for this account and this receipt rule', () => {
    const policy = resource(dev, 'MailBucketPolicy', 'AWS::S3::BucketPolicy')
    expect(policy.Bucket).toBe(BUCKET)
    const statements = asList((policy.PolicyDocument as JsonObject).Statement as unknown as Statement[])
    expect(statements).toEqual([
      {
        Sid: 'AllowSesToStoreInboundMail',
        Effect: 'Allow',
        Principal: { Service: 'ses.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${BUCKET}/inbound/*`,
        Condition: {
          StringEquals: { 'aws:SourceAccount': ACCOUNT },
          ArnEquals: { 'aws:SourceArn': RULE_ARN },
        },
      },
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ])
    // The legacy console policy's aws:Referer condition appears nowhere.
    expect(dev.raw).not.toMatch(/aws:Referer/i)

    const variantPolicy = resource(variant, 'MailBucketPolicy', 'AWS::S3::BucketPolicy')
    expect(
      asList((variantPolicy.PolicyDocument as JsonObject).Statement as unknown as Statement[])[0],
    ).toMatchObject({
      Resource: `arn:aws:s3:::${BUCKET}/mail/*`,
      Condition: {
        ArnEquals: {
          'aws:SourceArn': `arn:aws:ses:${REGION}:${ACCOUNT}:receipt-rule-set/acme-inbound:receipt-rule/ses-bouncer-dev-bounce`,
        },
      },
    })
  })

  it('creates the rule set and the rule: explicit recipients, scanning, TLS policy, S3 then this Lambda', () => {
    expect(resource(dev, 'ReceiptRuleSet', 'AWS::SES::ReceiptRuleSet')).toEqual({
      RuleSetName: 'ses-bouncer-dev',
    })
    const receiptRule = dev.Resources.ReceiptRule
    expect(receiptRule?.Type).toBe('AWS::SES::ReceiptRule')
    expect(receiptRule?.Properties).toEqual({
      RuleSetName: 'ses-bouncer-dev',
      Rule: {
        Name: 'ses-bouncer-dev-bounce',
        Enabled: true,
        Recipients: ['example.com'],
        ScanEnabled: true,
        TlsPolicy: 'Optional',
        // The order is the point: SES runs a rule's actions in order, and the event has no body.
        Actions: [
          { S3Action: { BucketName: BUCKET, ObjectKeyPrefix: 'inbound/' } },
          { LambdaAction: { FunctionArn: FUNCTION_ARN, InvocationType: 'RequestResponse' } },
        ],
      },
    })
    // SES checks both permissions when it creates the rule.
    expect(asList(receiptRule?.DependsOn).sort()).toEqual(['BounceSesInvokePermission', 'MailBucketPolicy'])
  })

  it('adds the rule to an existing set when asked, with the parameters given', () => {
    expect(variant.Resources.ReceiptRuleSet).toBeUndefined()
    expect(variant.Resources.ActivateReceiptRuleSet).toBeUndefined()
    expect(variant.Resources.ActivateRuleSetLambdaFunction).toBeUndefined()
    expect(variant.Resources.ActivateRuleSetRole).toBeUndefined()
    expect(variant.Resources.ReceiptRule?.Properties).toEqual({
      RuleSetName: 'acme-inbound',
      Rule: {
        Name: 'ses-bouncer-dev-bounce',
        Enabled: true,
        Recipients: ['acme.example.org', '.lists.acme.example.org', 'help@acme.example.net'],
        ScanEnabled: true,
        TlsPolicy: 'Require',
        Actions: [
          { S3Action: { BucketName: BUCKET, ObjectKeyPrefix: 'mail/' } },
          { LambdaAction: { FunctionArn: FUNCTION_ARN, InvocationType: 'Event' } },
        ],
      },
    })
    expect(resource(variant, 'BounceLambdaFunction', 'AWS::Lambda::Function').Environment).toMatchObject({
      Variables: {
        MAIL_PREFIX: 'mail/',
        BOUNCE_SENDER: 'postmaster@acme.example.org',
        LOG_ADDRESSES: 'hash',
        LOG_ADDRESS_KEY: '0123456789abcdef0123456789abcdef',
      },
    })
  })

  it('lets SES invoke the bounce function only from this account and this rule', () => {
    const permissions = ofType(dev, 'AWS::Lambda::Permission')
    const ses = permissions.filter(([, p]) => p.Properties.Principal === 'ses.amazonaws.com')
    expect(ses.map(([id]) => id)).toEqual(['BounceSesInvokePermission'])
    expect(ses[0]?.[1].Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: FUNCTION_ARN,
      Principal: 'ses.amazonaws.com',
      SourceAccount: ACCOUNT,
      SourceArn: RULE_ARN,
    })
    // Every invoke permission names its source.
    for (const [id, permission] of permissions) {
      expect(permission.Properties.SourceArn, `${id} has a SourceArn`).toEqual(expect.any(String))
    }
  })

  it('activates the new rule set with the custom resource, after the rule exists', () => {
    const activation = dev.Resources.ActivateReceiptRuleSet
    expect(activation?.Type).toBe('Custom::SesActiveReceiptRuleSet')
    expect(activation?.Properties).toEqual({
      ServiceToken: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:ses-bouncer-dev-activateRuleSet`,
      ServiceTimeout: 300,
      RuleSetName: 'ses-bouncer-dev',
      ReplaceActive: 'false',
    })
    expect(asList(activation?.DependsOn)).toEqual(['ReceiptRule'])
    expect(resource(dev, 'ActivateRuleSetLambdaFunction', 'AWS::Lambda::Function')).toMatchObject({
      Handler: 'handlers/activate-rule-set.handler',
      Role: '<ActivateRuleSetRole.Arn>',
    })
    expect(dev.Outputs.PreviouslyActiveRuleSet).toMatchObject({
      Value: '<ActivateReceiptRuleSet.PreviouslyActive>',
    })
  })

  it('keeps state in an on-demand table with TTL on', () => {
    expect(resource(dev, 'StateTable', 'AWS::DynamoDB::Table')).toEqual({
      TableName: 'ses-bouncer-dev-state',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    })
  })

  it('gives the bounce function a timeout within RequestResponse’s 30 s, async retries and a failure queue', () => {
    const bounce = resource(dev, 'BounceLambdaFunction', 'AWS::Lambda::Function')
    expect(bounce.Timeout).toBeLessThan(30)
    expect(bounce.Handler).toBe('handlers/bounce.handler')
    expect(bounce.Environment).toEqual({
      Variables: expect.objectContaining({
        MAIL_BUCKET: BUCKET,
        MAIL_PREFIX: 'inbound/',
        BOUNCE_SENDER: 'mailer-daemon@example.com',
        IDEMPOTENCY_TABLE: 'ses-bouncer-dev-state',
        DRY_RUN: 'false',
        MAIL_DIR: '',
        // Checked and compiled at package time (serverless/packaged-rules.cjs).
        RULES_FILE: 'bounce-rules.compiled.json',
        BOUNCE_QUEUE_URL: QUEUE_URL,
        LOG_ADDRESSES: 'full',
        LOG_ADDRESS_KEY: '',
      }),
    })
    expect(resource(dev, 'BounceLambdaEvConf', 'AWS::Lambda::EventInvokeConfig')).toEqual({
      FunctionName: 'ses-bouncer-dev-bounce',
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: {
        OnFailure: { Destination: `arn:aws:sqs:${REGION}:${ACCOUNT}:ses-bouncer-dev-bounce-failures` },
      },
    })
    expect(resource(dev, 'BounceFailureQueue', 'AWS::SQS::Queue')).toMatchObject({
      SqsManagedSseEnabled: true,
    })
  })

  it('runs the sending-health function every hour', () => {
    const quota = resource(dev, 'QuotaLambdaFunction', 'AWS::Lambda::Function')
    expect(quota.Handler).toBe('handlers/quota.handler')
    expect(quota.Environment).toEqual({
      Variables: expect.objectContaining({
        IDEMPOTENCY_TABLE: 'ses-bouncer-dev-state',
        ALERT_EMAIL_FROM: '',
        LOG_ADDRESSES: 'full',
      }),
    })
    const [[, rule] = []] = ofType(dev, 'AWS::Events::Rule')
    expect(rule?.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 hour)',
      Targets: [{ Arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:ses-bouncer-dev-quota` }],
    })
    expect(resource(variant, 'QuotaLambdaFunction', 'AWS::Lambda::Function').Environment).toEqual({
      Variables: expect.objectContaining({
        ALERT_EMAIL_FROM: 'health@acme.example.org',
        ALERT_EMAIL_TO: 'ops@acme.example.org',
        SES_CONFIGURATION_SET: 'ops-mail',
        LOG_ADDRESSES: 'hash',
      }),
    })
  })

  it('keeps every function’s logs for a bounded time', () => {
    const groups = ofType(dev, 'AWS::Logs::LogGroup')
    expect(groups.map(([, g]) => g.Properties.LogGroupName).sort()).toEqual([
      '/aws/lambda/ses-bouncer-dev-activateRuleSet',
      '/aws/lambda/ses-bouncer-dev-bounce',
      '/aws/lambda/ses-bouncer-dev-quota',
      '/aws/lambda/ses-bouncer-dev-sendBounces',
    ])
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(30)
  })

  it('alarms on function errors, fail-open metrics, throttles, failed events and the quota used, to a topic with the optional e-mail', () => {
    const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:ses-bouncer-dev-alarms`
    expect(resource(dev, 'AlarmTopic', 'AWS::SNS::Topic')).toEqual({
      TopicName: 'ses-bouncer-dev-alarms',
      KmsMasterKeyId: '<AlarmTopicKey>',
    })
    const alarms = Object.fromEntries(
      ofType(dev, 'AWS::CloudWatch::Alarm').map(([id, a]) => [
        id,
        {
          metric: `${a.Properties.Namespace}/${a.Properties.MetricName}`,
          dimensions: a.Properties.Dimensions,
          threshold: Number(a.Properties.Threshold),
          comparison: a.Properties.ComparisonOperator,
          actions: a.Properties.AlarmActions,
        },
      ]),
    )
    const atLeast = 'GreaterThanOrEqualToThreshold'
    expect(alarms).toEqual({
      BounceErrorsAlarm: {
        metric: 'AWS/Lambda/Errors',
        dimensions: [{ Name: 'FunctionName', Value: 'ses-bouncer-dev-bounce' }],
        threshold: 1,
        comparison: atLeast,
        actions: [topicArn],
      },
      QuotaErrorsAlarm: {
        metric: 'AWS/Lambda/Errors',
        dimensions: [{ Name: 'FunctionName', Value: 'ses-bouncer-dev-quota' }],
        threshold: 1,
        comparison: atLeast,
        actions: [topicArn],
      },
      FailedEventsAlarm: {
        metric: 'AWS/SQS/ApproximateNumberOfMessagesVisible',
        dimensions: [{ Name: 'QueueName', Value: 'ses-bouncer-dev-bounce-failures' }],
        threshold: 1,
        comparison: atLeast,
        actions: [topicArn],
      },
      BounceDeadLettersAlarm: {
        metric: 'AWS/SQS/ApproximateNumberOfMessagesVisible',
        dimensions: [{ Name: 'QueueName', Value: 'ses-bouncer-dev-bounces-dead' }],
        threshold: 1,
        comparison: atLeast,
        actions: [topicArn],
      },
      // An hour old: 23 of SendBounce's 24 hours are left.
      BounceQueueAgeAlarm: {
        metric: 'AWS/SQS/ApproximateAgeOfOldestMessage',
        dimensions: [{ Name: 'QueueName', Value: 'ses-bouncer-dev-bounces' }],
        threshold: 3600,
        comparison: atLeast,
        actions: [topicArn],
      },
      BouncesRejectedAlarm: {
        metric: 'SesBouncer/BouncesRejected',
        dimensions: [{ Name: 'service', Value: 'ses-bouncer' }],
        threshold: 1,
        comparison: atLeast,
        actions: [topicArn],
      },
      SendBouncesErrorsAlarm: {
        metric: 'AWS/Lambda/Errors',
        dimensions: [{ Name: 'FunctionName', Value: 'ses-bouncer-dev-sendBounces' }],
        threshold: 1,
        comparison: atLeast,
        actions: [topicArn],
      },
      // The quota function's embedded metric: namespace SesBouncer, dimension service.
      QuotaUsedAlarm: {
        metric: 'SesBouncer/QuotaUsedPercent',
        dimensions: [{ Name: 'service', Value: 'ses-bouncer' }],
        threshold: 80,
        comparison: atLeast,
        actions: [topicArn],
      },
      // Fail open is a CONTINUE, not a Lambda error: the bounce function's own metrics page.
      ...Object.fromEntries(
        ['MessagesUnreadable', 'BouncesFailed', 'MessagesFailed', 'EventsRejected'].map((metric) => [
          `${metric}Alarm`,
          {
            metric: `SesBouncer/${metric}`,
            dimensions: [{ Name: 'service', Value: 'ses-bouncer' }],
            threshold: 1,
            comparison: atLeast,
            actions: [topicArn],
          },
        ]),
      ),
      BounceThrottlesAlarm: {
        metric: 'AWS/Lambda/Throttles',
        dimensions: [{ Name: 'FunctionName', Value: 'ses-bouncer-dev-bounce' }],
        threshold: 1,
        comparison: atLeast,
        actions: [topicArn],
      },
    })
    for (const [id, alarm] of ofType(dev, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties, id).toMatchObject({
        OKActions: [topicArn],
        TreatMissingData: 'notBreaching',
        EvaluationPeriods: 1,
      })
    }
    // Thresholds are deploy parameters.
    const threshold = (id: string) => Number(variant.Resources[id]?.Properties.Threshold)
    expect(
      [
        'MessagesUnreadableAlarm',
        'BouncesFailedAlarm',
        'MessagesFailedAlarm',
        'EventsRejectedAlarm',
        'BounceThrottlesAlarm',
        'BouncesRejectedAlarm',
      ].map(threshold),
    ).toEqual([3, 5, 2, 4, 10, 5])
    for (const id of [
      'MessagesUnreadableAlarm',
      'BouncesFailedAlarm',
      'MessagesFailedAlarm',
      'EventsRejectedAlarm',
    ]) {
      expect(dev.Resources[id]?.Properties).toMatchObject({ Statistic: 'Sum', Period: 300 })
    }
    expect(ofType(dev, 'AWS::SNS::Subscription')).toEqual([])
    expect(Number(variant.Resources.QuotaUsedAlarm?.Properties.Threshold)).toBe(90)
    expect(resource(variant, 'AlarmEmailSubscription', 'AWS::SNS::Subscription')).toEqual({
      TopicArn: topicArn,
      Protocol: 'email',
      Endpoint: 'ops@acme.example.org',
    })
  })

  it('encrypts the alarm topic with its own rotating key that CloudWatch alarms may publish with', () => {
    // Not alias/aws/sns: the AWS managed key's policy cannot grant CloudWatch, so alarms could not publish.
    expect(dev.raw).not.toMatch(/alias\/aws\/sns/)
    const key = resource(dev, 'AlarmTopicKey', 'AWS::KMS::Key')
    expect(key.EnableKeyRotation).toBe(true)
    expect(key.KeyPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AccountAdministersTheKeyThroughIam',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
        {
          Sid: 'CloudWatchAlarmsOfThisAccountPublish',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Resource: '*',
          Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
        },
      ],
    })
    expect(resource(dev, 'AlarmTopicKeyAlias', 'AWS::KMS::Alias')).toEqual({
      AliasName: 'alias/ses-bouncer-dev-alarms',
      TargetKeyId: '<AlarmTopicKey>',
    })
    // Every alarm publishes to that topic and no other.
    for (const [id, alarm] of ofType(dev, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions, id).toEqual([
        `arn:aws:sns:${REGION}:${ACCOUNT}:ses-bouncer-dev-alarms`,
      ])
    }
  })

  it('reserves concurrency for the bounce function, or none when asked', () => {
    expect(
      Number(resource(dev, 'BounceLambdaFunction', 'AWS::Lambda::Function').ReservedConcurrentExecutions),
    ).toBe(20)
    expect(
      resource(variant, 'BounceLambdaFunction', 'AWS::Lambda::Function').ReservedConcurrentExecutions,
    ).toBeUndefined()
    // The other functions share the account's unreserved pool.
    for (const id of ['QuotaLambdaFunction', 'ActivateRuleSetLambdaFunction']) {
      expect(dev.Resources[id]?.Properties.ReservedConcurrentExecutions, id).toBeUndefined()
    }
  })

  it('grants the bounce function only what it calls', () => {
    const logs = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/ses-bouncer-dev-bounce:*`
    expect(roleStatements(dev, 'BounceRole')).toEqual({
      WriteOwnLogs: {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: logs,
      },
      ReadStoredMail: {
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: `arn:aws:s3:::${BUCKET}/inbound/*`,
      },
      // Only the sender calls SendBounce; the bounce function queues.
      QueueBounces: {
        Effect: 'Allow',
        Action: ['sqs:SendMessage'],
        Resource: QUEUE_ARN,
      },
      BounceClaimsAndCounters: {
        Effect: 'Allow',
        Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: TABLE_ARN,
      },
      SendFailedEvents: {
        Effect: 'Allow',
        Action: ['sqs:SendMessage'],
        Resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:ses-bouncer-dev-bounce-failures`,
      },
    })
    expect(roleStatements(variant, 'BounceRole').ReadStoredMail?.Resource).toBe(
      `arn:aws:s3:::${BUCKET}/mail/*`,
    )
  })

  it('reads the rules from the package, or from S3 when rulesBucket is given, with read on that folder only', () => {
    const environment = (template: Template) =>
      (resource(template, 'BounceLambdaFunction', 'AWS::Lambda::Function').Environment as JsonObject)
        .Variables as JsonObject
    expect(environment(dev)).toMatchObject({
      RULES_FILE: 'bounce-rules.compiled.json',
      RULES_S3_URI: '',
      RULES_REFRESH_SECONDS: '60',
    })
    expect(environment(variant)).toMatchObject({
      RULES_FILE: '',
      RULES_S3_URI: 's3://acme-config/ses-bouncer/bounce-rules.yml',
    })
    expect(roleStatements(variant, 'BounceRole').ReadRulesFromS3).toEqual({
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: 'arn:aws:s3:::acme-config/ses-bouncer/*',
    })
    expect(roleStatements(dev, 'BounceRole').ReadRulesFromS3).toBeUndefined()
  })

  it('grants the sending-health function its reads, and mail only from the alert sender when one is set', () => {
    const logs = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/ses-bouncer-dev-quota:*`
    const base = {
      WriteOwnLogs: {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: logs,
      },
      ReadSendingHealth: {
        Effect: 'Allow',
        Action: ['ses:GetSendQuota', 'ses:GetSendStatistics'],
        Resource: '*',
      },
      AlertClaims: {
        Effect: 'Allow',
        Action: ['dynamodb:DeleteItem', 'dynamodb:PutItem'],
        Resource: TABLE_ARN,
      },
    }
    expect(roleStatements(dev, 'QuotaRole')).toEqual(base)
    expect(roleStatements(variant, 'QuotaRole')).toEqual({
      ...base,
      SendAlertsFromTheAlertSender: {
        Effect: 'Allow',
        Action: ['ses:SendEmail', 'ses:SendRawEmail'],
        Resource: [
          `arn:aws:ses:${REGION}:${ACCOUNT}:identity/*`,
          `arn:aws:ses:${REGION}:${ACCOUNT}:configuration-set/ops-mail`,
        ],
        Condition: { StringEquals: { 'ses:FromAddress': 'health@acme.example.org' } },
      },
    })
  })

  it('queues bounces on an encrypted standard queue with a dead-letter queue, drained by the sender', () => {
    expect(resource(dev, 'BounceQueue', 'AWS::SQS::Queue')).toEqual({
      QueueName: 'ses-bouncer-dev-bounces',
      VisibilityTimeout: 360,
      MessageRetentionPeriod: 345600,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: DEAD_LETTER_ARN, maxReceiveCount: 24 },
    })
    expect(resource(dev, 'BounceDeadLetterQueue', 'AWS::SQS::Queue')).toEqual({
      QueueName: 'ses-bouncer-dev-bounces-dead',
      MessageRetentionPeriod: 1209600,
      SqsManagedSseEnabled: true,
    })
    const sender = resource(dev, 'SendBouncesLambdaFunction', 'AWS::Lambda::Function')
    expect(sender).toMatchObject({ Handler: 'handlers/send-bounces.handler', Role: '<SendBouncesRole.Arn>' })
    // Lambda DG, services-sqs-configure: visibility timeout at least six times the function's.
    expect(Number(sender.Timeout) * 6).toBeLessThanOrEqual(360)
    expect(sender.Environment).toEqual({
      Variables: expect.objectContaining({
        BOUNCE_RATE_PER_SECOND: '1',
        BOUNCE_DEAD_LETTER_URL: DEAD_LETTER_URL,
        IDEMPOTENCY_TABLE: 'ses-bouncer-dev-state',
        DRY_RUN: 'false',
      }),
    })
    const mappings = ofType(dev, 'AWS::Lambda::EventSourceMapping')
    expect(mappings.map(([, mapping]) => mapping.Properties)).toEqual([
      {
        EventSourceArn: QUEUE_ARN,
        FunctionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:ses-bouncer-dev-sendBounces`,
        BatchSize: 5,
        Enabled: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 2 },
      },
    ])
    expect(
      (resource(variant, 'SendBouncesLambdaFunction', 'AWS::Lambda::Function').Environment as JsonObject)
        .Variables,
    ).toMatchObject({ BOUNCE_RATE_PER_SECOND: '0.5' })
    expect(dev.Outputs.BounceQueueUrl).toEqual({ Value: QUEUE_URL })
  })

  it('grants the sender the queue, SendBounce from the bounce sender only, and its claims', () => {
    expect(roleStatements(dev, 'SendBouncesRole')).toEqual({
      WriteOwnLogs: {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/ses-bouncer-dev-sendBounces:*`,
      },
      ConsumeTheBounceQueue: {
        Effect: 'Allow',
        Action: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
        Resource: QUEUE_ARN,
      },
      DeadLetterUnreadableMessages: {
        Effect: 'Allow',
        Action: ['sqs:SendMessage'],
        Resource: DEAD_LETTER_ARN,
      },
      SendBouncesFromTheBounceSender: {
        Effect: 'Allow',
        Action: ['ses:SendBounce'],
        Resource: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/*`,
        Condition: { StringEquals: { 'ses:FromAddress': 'mailer-daemon@example.com' } },
      },
      SendClaimsAndPace: {
        Effect: 'Allow',
        Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: TABLE_ARN,
      },
    })
    // IAM and the runtime name the same sender.
    expect(roleStatements(variant, 'SendBouncesRole').SendBouncesFromTheBounceSender?.Condition).toEqual({
      StringEquals: { 'ses:FromAddress': 'postmaster@acme.example.org' },
    })
    // No other role may call SendBounce.
    const sendBounce = allStatements(dev).filter(({ statement }) =>
      asList(statement.Action).includes('ses:SendBounce'),
    )
    expect(sendBounce.map(({ where }) => where)).toEqual(['SendBouncesRole/send-bounces'])
  })

  it('builds the dashboard an operator opens first, on this stack’s queues and Region', () => {
    const dashboard = resource(dev, 'BounceDashboard', 'AWS::CloudWatch::Dashboard')
    expect(dashboard.DashboardName).toBe('ses-bouncer-dev')
    const body = JSON.parse(String(dashboard.DashboardBody)) as {
      widgets: { properties: { title: string; region: string; metrics: Json[][] } }[]
    }
    expect(body.widgets.map((widget) => widget.properties.title)).toEqual([
      'Messages by decision (recipients)',
      'Guarded drops: bounces the safety guard turned into drops, by guard',
      'Bounces queued vs sent',
      'Bounce queue: age of the oldest bounce (s) and bounces waiting',
      'SES 24-hour sending quota used (%)',
      'Time on the queue before SendBounce (s)',
    ])
    for (const widget of body.widgets) expect(widget.properties.region).toBe(REGION)
    const text = JSON.stringify(body)
    for (const metric of ['BouncesQueued', 'BouncesSent', 'QuotaUsedPercent', 'GuardedDrops', 'Accepted']) {
      expect(text).toContain(metric)
    }
    expect(text).toContain('"ApproximateAgeOfOldestMessage","QueueName","ses-bouncer-dev-bounces"')
    expect(text).toContain('"QueueName","ses-bouncer-dev-bounces-dead"')
    expect(text).not.toContain('${')
  })

  it('grants the activation function only the two rule set calls', () => {
    expect(roleStatements(dev, 'ActivateRuleSetRole')).toEqual({
      WriteOwnLogs: {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/ses-bouncer-dev-activateRuleSet:*`,
      },
      ActivateTheRuleSet: {
        Effect: 'Allow',
        Action: ['ses:DescribeActiveReceiptRuleSet', 'ses:SetActiveReceiptRuleSet'],
        Resource: '*',
      },
    })
  })

  it('has no wildcard action, no service-wide grant, and "*" resources only where IAM allows nothing narrower', () => {
    for (const template of [dev, variant]) {
      const statements = allStatements(template)
      expect(statements.length).toBeGreaterThan(10)
      for (const { where, statement } of statements) {
        const actions = asList(statement.Action)
        const label = `${where} ${statement.Sid ?? JSON.stringify(statement)}`
        expect(actions, label).not.toContain('*')
        if (statement.Effect === 'Allow') {
          for (const action of actions) expect(action, label).not.toMatch(/\*/)
          expect(statement.Principal, label).not.toBe('*')
          if (asList(statement.Resource).includes('*')) {
            for (const action of actions)
              expect(STAR_ONLY_ACTIONS.has(action), `${label}: ${action} on "*"`).toBe(true)
          }
        } else {
          // A deny may name a whole service: here only to refuse any request without TLS.
          expect(Object.keys(statement.Condition ?? {}), label).toEqual(['Bool'])
          const bool = (statement.Condition?.Bool ?? {}) as JsonObject
          expect(String(bool['aws:SecureTransport']), label).toBe('false')
        }
        expect(actions, label).not.toContain('ses:*')
        if (actions.includes('s3:*')) expect(statement.Effect, label).toBe('Deny')
      }
    }
  })
})

describe('the deploy parameters, checked offline before anything is packaged', () => {
  it('refuses a real stage without the required parameters, listing every problem', () => {
    expect(refusedProd).toContain('Invalid deploy parameters (4)')
    expect(refusedProd).toContain('recipients: required')
    expect(refusedProd).toContain('bounceSender: required')
    expect(refusedProd).toContain("tlsPolicy: expected one of Optional, Require, got 'Sometimes'")
    expect(refusedProd).toContain("mailPrefix: expected a key prefix ending in '/'")
  })

  it('refuses to package the local stage', () => {
    expect(refusedLocal).toContain('Stage "local" is only for `serverless invoke local`')
  })
})
