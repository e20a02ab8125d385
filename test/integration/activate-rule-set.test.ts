import { randomUUID } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { CloudFormationCustomResourceEvent } from 'aws-lambda'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { CustomResourceResponseError } from '../../src/adapters/cloudformation-custom-resource.js'
import { createActivateRuleSetRuntime } from '../../src/runtime/activate-rule-set-runtime.js'
import { captureOutput, type LogLine, lambdaContext } from '../support/lambda.js'
import { type SesStub, startSesStub } from '../support/ses-stub.js'

const OURS = 'ses-bouncer-dev'
const STACK_ID =
  'arn:aws:cloudformation:us-east-1:123456789012:stack/ses-bouncer-dev/5b9f2a50-0000-4000-8000-000000000000'

interface Put {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Record<string, unknown>
}

/** Stands in for CloudFormation's pre-signed S3 URL: records each PUT, answers 200 unless told to fail. */
async function startResponseServer() {
  const puts: Put[] = []
  let failures = 0
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    puts.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: JSON.parse(text) })
    if (failures > 0) {
      failures -= 1
      res.writeHead(500).end('<Error><Code>InternalError</Code></Error>')
      return
    }
    res.writeHead(200).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/cfn-response/ActivateReceiptRuleSet?X-Amz-Signature=0123abcd`,
    puts,
    failNext(times: number) {
      failures = times
    },
    reset() {
      puts.length = 0
      failures = 0
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

let ses: SesStub
let cfn: Awaited<ReturnType<typeof startResponseServer>>

beforeAll(async () => {
  ;[ses, cfn] = await Promise.all([startSesStub(), startResponseServer()])
})

afterAll(async () => {
  await Promise.all([ses?.close(), cfn?.close()])
})

afterEach(() => {
  ses.reset()
  cfn.reset()
  vi.unstubAllEnvs()
})

type Properties = { RuleSetName?: string; ReplaceActive?: string }

function cfnEvent(
  type: 'Create' | 'Update' | 'Delete',
  properties: Properties = { RuleSetName: OURS, ReplaceActive: 'false' },
  extra: { PhysicalResourceId?: string; OldResourceProperties?: Properties } = {},
): CloudFormationCustomResourceEvent {
  const serviceToken = 'arn:aws:lambda:us-east-1:123456789012:function:ses-bouncer-dev-activateRuleSet'
  return {
    RequestType: type,
    ServiceToken: serviceToken,
    ResponseURL: cfn.url,
    StackId: STACK_ID,
    RequestId: randomUUID(),
    LogicalResourceId: 'ActivateReceiptRuleSet',
    ResourceType: 'Custom::SesActiveReceiptRuleSet',
    ResourceProperties: { ServiceToken: serviceToken, ...properties },
    ...extra,
  } as CloudFormationCustomResourceEvent
}

type Handler = (
  event: CloudFormationCustomResourceEvent,
  context: ReturnType<typeof lambdaContext>,
) => Promise<void>

/** A cold start of handlers/activate-rule-set.ts pointed at the SES stub. */
async function loadHandler(): Promise<Handler> {
  vi.stubEnv('AWS_ENDPOINT_URL_SES', ses.url)
  vi.stubEnv('AWS_REGION', 'us-east-1')
  vi.resetModules()
  const module = await import('../../handlers/activate-rule-set.js')
  return module.handler as unknown as Handler
}

async function invoke(handler: Handler, event: CloudFormationCustomResourceEvent) {
  const output = captureOutput()
  try {
    const error = await handler(event, lambdaContext(60_000, 'ses-bouncer-dev-activateRuleSet')).then(
      () => undefined,
      (thrown: unknown) => thrown as Error,
    )
    return { error, lines: output.lines(), response: cfn.puts.at(-1)?.body }
  } finally {
    output.restore()
  }
}

const actions = () => ses.requests.map((request) => request.action)

describe('the receipt rule set activation custom resource, against the SES stub and a loopback response URL', () => {
  it('on Create activates the set when none is active and answers CloudFormation with SUCCESS', async () => {
    const handler = await loadHandler()
    const event = cfnEvent('Create')
    const { error, lines, response } = await invoke(handler, event)

    expect(error).toBeUndefined()
    expect(actions()).toEqual(['DescribeActiveReceiptRuleSet', 'SetActiveReceiptRuleSet'])
    expect(ses.requestsFor('SetActiveReceiptRuleSet')[0]?.params).toEqual({
      Action: 'SetActiveReceiptRuleSet',
      Version: '2010-12-01',
      RuleSetName: OURS,
    })
    expect(ses.activeRuleSet).toBe(OURS)

    expect(cfn.puts).toHaveLength(1)
    const [put] = cfn.puts
    expect(put?.method).toBe('PUT')
    expect(put?.url).toBe(new URL(cfn.url).pathname + new URL(cfn.url).search)
    // The pre-signed URL's signature covers no Content-Type: none may be sent.
    expect(put?.headers['content-type']).toBeUndefined()
    expect(response).toEqual({
      Status: 'SUCCESS',
      Reason: expect.stringContaining(`activated receipt rule set ${OURS}`),
      PhysicalResourceId: OURS,
      StackId: STACK_ID,
      RequestId: event.RequestId,
      LogicalResourceId: 'ActivateReceiptRuleSet',
      Data: { PreviouslyActive: '' },
    })
    expect(lines.filter((line: LogLine) => line.message === 'receipt rule set activation')).toEqual([
      expect.objectContaining({ level: 'INFO', requestType: 'Create', kind: 'activated', ruleSet: OURS }),
    ])
  })

  it('on Create leaves an already active set as it is', async () => {
    ses.activeRuleSet = OURS
    const handler = await loadHandler()
    const { response } = await invoke(handler, cfnEvent('Create'))

    expect(actions()).toEqual(['DescribeActiveReceiptRuleSet'])
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: OURS,
      Data: { PreviouslyActive: OURS },
    })
  })

  it('refuses to replace another active set, changes nothing, and the rollback Delete touches nothing', async () => {
    ses.activeRuleSet = 'legacy-rules'
    const handler = await loadHandler()
    const { error, response } = await invoke(handler, cfnEvent('Create'))

    expect(error).toBeUndefined()
    expect(actions()).toEqual(['DescribeActiveReceiptRuleSet'])
    expect(ses.activeRuleSet).toBe('legacy-rules')
    expect(response).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: 'not-activated:ActivateReceiptRuleSet',
    })
    expect(response?.Reason).toContain("receipt rule set 'legacy-rules' is active")
    expect(response?.Reason).toContain('--param createRuleSet=false --param ruleSet=legacy-rules')
    expect(response?.Reason).toContain('--param replaceActiveRuleSet=true')

    ses.reset()
    ses.activeRuleSet = 'legacy-rules'
    // The rollback sends the Create's properties back, whatever they were.
    const rollback = await invoke(
      handler,
      cfnEvent(
        'Delete',
        { RuleSetName: 'no spaces allowed' },
        { PhysicalResourceId: 'not-activated:ActivateReceiptRuleSet' },
      ),
    )
    expect(actions()).toEqual(['DescribeActiveReceiptRuleSet'])
    expect(ses.activeRuleSet).toBe('legacy-rules')
    expect(rollback.response).toMatchObject({ Status: 'SUCCESS' })
  })

  it('replaces another active set when allowed, and reports which one it was', async () => {
    ses.activeRuleSet = 'legacy-rules'
    const handler = await loadHandler()
    const { response } = await invoke(
      handler,
      cfnEvent('Create', { RuleSetName: OURS, ReplaceActive: 'true' }),
    )

    expect(ses.activeRuleSet).toBe(OURS)
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: OURS,
      Data: { PreviouslyActive: 'legacy-rules' },
    })
    expect(response?.Reason).toContain('replacing legacy-rules')
  })

  it('on Update switches from its own previous set without asking, and the old id’s Delete leaves the new one', async () => {
    ses.activeRuleSet = OURS
    const handler = await loadHandler()
    const { response } = await invoke(
      handler,
      cfnEvent(
        'Update',
        { RuleSetName: 'ses-bouncer-dev-2', ReplaceActive: 'false' },
        { PhysicalResourceId: OURS, OldResourceProperties: { RuleSetName: OURS, ReplaceActive: 'false' } },
      ),
    )
    expect(ses.activeRuleSet).toBe('ses-bouncer-dev-2')
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'ses-bouncer-dev-2',
      Data: { PreviouslyActive: OURS },
    })

    // A new physical id makes CloudFormation delete the old one: ours is no longer active.
    ses.reset()
    ses.activeRuleSet = 'ses-bouncer-dev-2'
    const cleanup = await invoke(handler, cfnEvent('Delete', undefined, { PhysicalResourceId: OURS }))
    expect(actions()).toEqual(['DescribeActiveReceiptRuleSet'])
    expect(ses.activeRuleSet).toBe('ses-bouncer-dev-2')
    expect(cleanup.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: OURS })
  })

  it('on Update refuses to take over a foreign set that became active, keeping its physical id', async () => {
    ses.activeRuleSet = 'someone-else'
    const handler = await loadHandler()
    const { response } = await invoke(
      handler,
      cfnEvent(
        'Update',
        { RuleSetName: OURS, ReplaceActive: 'false' },
        { PhysicalResourceId: OURS, OldResourceProperties: { RuleSetName: OURS, ReplaceActive: 'false' } },
      ),
    )
    expect(ses.activeRuleSet).toBe('someone-else')
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: OURS })
  })

  it('on Delete deactivates the set while it is still the active one', async () => {
    ses.activeRuleSet = OURS
    const handler = await loadHandler()
    const { response } = await invoke(handler, cfnEvent('Delete', undefined, { PhysicalResourceId: OURS }))

    expect(actions()).toEqual(['DescribeActiveReceiptRuleSet', 'SetActiveReceiptRuleSet'])
    // No RuleSetName: SES deactivates every set.
    expect(ses.requestsFor('SetActiveReceiptRuleSet')[0]?.params).toEqual({
      Action: 'SetActiveReceiptRuleSet',
      Version: '2010-12-01',
    })
    expect(ses.activeRuleSet).toBeUndefined()
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: OURS,
      Data: { PreviouslyActive: '' },
    })
  })

  it('on Delete leaves another active set alone', async () => {
    ses.activeRuleSet = 'legacy-rules'
    const handler = await loadHandler()
    const { response } = await invoke(handler, cfnEvent('Delete', undefined, { PhysicalResourceId: OURS }))

    expect(actions()).toEqual(['DescribeActiveReceiptRuleSet'])
    expect(ses.activeRuleSet).toBe('legacy-rules')
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: OURS })
    expect(response?.Reason).toContain('left as it is')
  })

  it('answers FAILED with the SES error when SES refuses, instead of leaving CloudFormation waiting', async () => {
    ses.failNext('SetActiveReceiptRuleSet', {
      status: 400,
      code: 'RuleSetDoesNotExist',
      message: 'Rule set does not exist: ses-bouncer-dev',
    })
    const handler = await loadHandler()
    const { error, lines, response } = await invoke(handler, cfnEvent('Create'))

    expect(error).toBeUndefined()
    expect(response).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: 'not-activated:ActivateReceiptRuleSet',
    })
    expect(response?.Reason).toContain(
      `SetActiveReceiptRuleSet ${OURS}: RuleSetDoesNotExistException (HTTP 400): Rule set does not exist`,
    )
    expect(lines.filter((line) => line.level === 'ERROR')).toHaveLength(1)
  })

  it('answers FAILED, calling nothing, when the properties are invalid', async () => {
    const handler = await loadHandler()
    const { response } = await invoke(handler, cfnEvent('Create', { RuleSetName: 'no spaces allowed' }))

    expect(ses.requests).toHaveLength(0)
    expect(response).toMatchObject({ Status: 'FAILED' })
    expect(response?.Reason).toContain('RuleSetName: expected a receipt rule set name')
  })

  it('on Update from an id that activated nothing, still refuses to replace a foreign active set', async () => {
    ses.activeRuleSet = 'legacy-rules'
    const handler = await loadHandler()
    const { response } = await invoke(
      handler,
      cfnEvent(
        'Update',
        { RuleSetName: OURS, ReplaceActive: 'false' },
        {
          PhysicalResourceId: 'not-activated:ActivateReceiptRuleSet',
          OldResourceProperties: { RuleSetName: OURS, ReplaceActive: 'false' },
        },
      ),
    )
    expect(actions()).toEqual(['DescribeActiveReceiptRuleSet'])
    expect(ses.activeRuleSet).toBe('legacy-rules')
    expect(response).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: 'not-activated:ActivateReceiptRuleSet',
    })
  })

  it('tries the response URL again, and fails the invocation when CloudFormation cannot be told', async () => {
    // The SDK reads its endpoint from the process environment.
    vi.stubEnv('AWS_ENDPOINT_URL_SES', ses.url)
    const runtime = createActivateRuleSetRuntime({ AWS_REGION: 'us-east-1' }, { response: { backoffMs: 1 } })
    const output = captureOutput()
    try {
      cfn.failNext(2)
      await runtime.handleEvent(cfnEvent('Create'), lambdaContext(60_000))
      expect(cfn.puts).toHaveLength(3)
      expect(cfn.puts.map((put) => put.body.Status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS'])

      cfn.reset()
      cfn.failNext(3)
      const error = await runtime
        .handleEvent(cfnEvent('Create'), lambdaContext(60_000))
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CustomResourceResponseError)
      expect((error as Error).message).toContain('not accepted after 3 attempts: HTTP 500')
    } finally {
      output.restore()
    }
  })
})

describe('a malformed CloudFormation request: checked whole before any SES call, answered FAILED, nothing changed', () => {
  /** A valid event of the type, then edited into the malformed shape. */
  const malformed = (
    type: 'Create' | 'Update' | 'Delete',
    edit: (event: Record<string, unknown>) => void,
    extra: Parameters<typeof cfnEvent>[2] = {},
  ) => {
    const event = { ...cfnEvent(type, undefined, extra) } as unknown as Record<string, unknown>
    edit(event)
    return event as unknown as CloudFormationCustomResourceEvent
  }
  const ourUpdate = {
    PhysicalResourceId: OURS,
    OldResourceProperties: { RuleSetName: OURS, ReplaceActive: 'false' },
  }

  // Built when each test runs: the response server's URL is known only then.
  const cases: [string, () => CloudFormationCustomResourceEvent, string, string][] = [
    [
      'an unknown RequestType with another set as physical id (once treated as an Update)',
      () =>
        malformed('Update', (e) => {
          e.RequestType = 'Upgrade'
          e.PhysicalResourceId = 'legacy-rules'
        }),
      'RequestType: Invalid option',
      'legacy-rules',
    ],
    [
      'a missing RequestType',
      () =>
        malformed('Create', (e) => {
          delete e.RequestType
        }),
      'RequestType: Invalid option',
      'not-activated:ActivateReceiptRuleSet',
    ],
    [
      'a Delete without a physical id',
      () => malformed('Delete', () => {}),
      'PhysicalResourceId: required for Delete',
      'not-activated:ActivateReceiptRuleSet',
    ],
    [
      'an Update without a physical id',
      () => malformed('Update', () => {}, { OldResourceProperties: { RuleSetName: OURS } }),
      'PhysicalResourceId: required for Update',
      'not-activated:ActivateReceiptRuleSet',
    ],
    [
      'an Update without its old properties',
      () => malformed('Update', () => {}, { PhysicalResourceId: OURS }),
      'OldResourceProperties: required for Update',
      OURS,
    ],
    [
      'an Update whose physical id names another set than its old properties',
      () =>
        malformed('Update', () => {}, {
          PhysicalResourceId: 'legacy-rules',
          OldResourceProperties: { RuleSetName: OURS, ReplaceActive: 'false' },
        }),
      `PhysicalResourceId: names 'legacy-rules', but the old RuleSetName was "${OURS}"`,
      'legacy-rules',
    ],
    [
      'a physical id that is neither a set nor our marker',
      () => malformed('Delete', () => {}, { PhysicalResourceId: 'arn:aws:ses:us-east-1:123456789012:x' }),
      'PhysicalResourceId: expected the rule set this resource activated',
      'not-activated:ActivateReceiptRuleSet',
    ],
    [
      'properties that are not an object',
      () =>
        malformed('Create', (e) => {
          e.ResourceProperties = 'ses-bouncer-dev'
        }),
      'ResourceProperties: Invalid input',
      'not-activated:ActivateReceiptRuleSet',
    ],
    [
      'a ReplaceActive that is not "true" or "false"',
      () =>
        malformed(
          'Update',
          (e) => {
            e.ResourceProperties = { ServiceToken: 'x', RuleSetName: OURS, ReplaceActive: 'yes' }
          },
          ourUpdate,
        ),
      'ResourceProperties.ReplaceActive: Invalid option',
      OURS,
    ],
    [
      'a StackId that is no stack ARN',
      () =>
        malformed('Create', (e) => {
          e.StackId = 'my-stack'
        }),
      'StackId: expected a stack ARN',
      'not-activated:ActivateReceiptRuleSet',
    ],
    [
      'a missing RequestId',
      () =>
        malformed(
          'Delete',
          (e) => {
            delete e.RequestId
          },
          ourUpdate,
        ),
      'RequestId: Invalid input',
      OURS,
    ],
  ]

  it.each(cases)('%s', async (_, build, problem, physicalId) => {
    ses.activeRuleSet = 'legacy-rules'
    const handler = await loadHandler()
    const { error, lines, response } = await invoke(handler, build())

    expect(error).toBeUndefined()
    expect(ses.requests).toEqual([])
    expect(ses.activeRuleSet).toBe('legacy-rules')
    expect(cfn.puts).toHaveLength(1)
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: physicalId })
    expect(response?.Reason).toContain('invalid request from CloudFormation, nothing was changed')
    expect(response?.Reason).toContain(problem)
    expect(lines.filter((line) => line.level === 'ERROR')).toEqual([
      expect.objectContaining({
        message: 'rejected a malformed CloudFormation request; nothing was changed',
        answered: true,
        problems: expect.arrayContaining([expect.stringContaining(problem)]),
      }),
    ])
  })

  it('names every problem at once', async () => {
    const handler = await loadHandler()
    const event = malformed('Update', (e) => {
      e.RequestType = 'Refresh'
      e.StackId = 42
      e.ResourceProperties = null
    })
    const { response } = await invoke(handler, event)
    expect(ses.requests).toEqual([])
    expect(response?.Reason).toContain('RequestType: Invalid option')
    expect(response?.Reason).toContain('StackId: Invalid input')
    expect(response?.Reason).toContain('ResourceProperties: Invalid input')
  })

  it.each([
    ['no ResponseURL', (e: Record<string, unknown>) => delete e.ResponseURL],
    ['a ResponseURL that is no URL', (e: Record<string, unknown>) => (e.ResponseURL = 'not a url')],
    [
      'a plain-http ResponseURL off the loopback interface',
      (e: Record<string, unknown>) => (e.ResponseURL = 'http://attacker.example/x'),
    ],
  ])('with %s: changes nothing, answers nobody, and logs why', async (_, edit) => {
    ses.activeRuleSet = 'legacy-rules'
    const handler = await loadHandler()
    const { error, lines } = await invoke(handler, malformed('Create', edit, {}))

    expect(error).toBeUndefined()
    expect(ses.requests).toEqual([])
    expect(ses.activeRuleSet).toBe('legacy-rules')
    expect(cfn.puts).toEqual([])
    expect(lines.filter((line) => line.level === 'ERROR')).toEqual([
      expect.objectContaining({
        message: 'rejected a malformed CloudFormation request; nothing was changed',
        answered: false,
        problems: expect.arrayContaining([expect.stringContaining('ResponseURL')]),
      }),
    ])
  })

  it.each([null, 'Create', 42, []])(
    'an event that is not even an object (%j) changes nothing',
    async (event) => {
      const handler = await loadHandler()
      const { error } = await invoke(handler, event as unknown as CloudFormationCustomResourceEvent)
      expect(error).toBeUndefined()
      expect(ses.requests).toEqual([])
      expect(cfn.puts).toEqual([])
    },
  )
})
