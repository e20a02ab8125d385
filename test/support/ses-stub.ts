import { randomUUID } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

const XMLNS = 'http://ses.amazonaws.com/doc/2010-12-01/'
const ACTIONS = [
  'SendBounce',
  'GetSendQuota',
  'GetSendStatistics',
  'SendEmail',
  'SendRawEmail',
  'DescribeActiveReceiptRuleSet',
  'SetActiveReceiptRuleSet',
] as const
const BOUNCE_TYPES = [
  'DoesNotExist',
  'MessageTooLarge',
  'ExceededQuota',
  'ContentRejected',
  'Undefined',
  'TemporaryFailure',
]
const DSN_ACTIONS = ['failed', 'delayed', 'delivered', 'relayed', 'expanded']
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/
// SigV4 credential scope: <key>/<yyyymmdd>/<region>/ses/aws4_request
const SES_AUTH =
  /^AWS4-HMAC-SHA256 Credential=[^/\s]+\/\d{8}\/[a-z0-9-]+\/ses\/aws4_request, ?SignedHeaders=[^,]+, ?Signature=[0-9a-f]{64}$/

export interface SesRequest {
  action: string
  /** Decoded form pairs with their exact wire keys, e.g. `BouncedRecipientInfoList.member.1.Recipient`. */
  params: Record<string, string>
  rawBody: string
  headers: IncomingHttpHeaders
  /** Epoch ms when the whole request had arrived: what SES's rate limit sees. */
  at: number
  /** The HTTP status it was answered with (0 while unanswered). */
  status: number
}

export type SesFault = { status: number; code: string; message?: string } | { delayMs: number }

export interface SendQuota {
  Max24HourSend: number
  MaxSendRate: number
  SentLast24Hours: number
}

export interface SendDataPoint {
  Timestamp: Date
  DeliveryAttempts: number
  Bounces: number
  Complaints: number
  Rejects: number
}

export interface SesStub {
  /** Value for AWS_ENDPOINT_URL_SES. */
  url: string
  requests: SesRequest[]
  requestsFor(action: string): SesRequest[]
  failNext(action: string, fault: SesFault, times?: number): void
  setQuota(quota: Partial<SendQuota>): void
  setStatistics(points: SendDataPoint[]): void
  /** The Region's active receipt rule set (undefined: none), as Describe/SetActiveReceiptRuleSet see it. */
  activeRuleSet: string | undefined
  /**
   * SES's SendBounce limit: a call that arrives less than 1/rate seconds after the last one SES
   * accepted is answered `Throttling` (ses-facts §1.1, §1.4). Undefined: no limit (the default).
   */
  sendBounceRate: number | undefined
  reset(): void
  close(): Promise<void>
}

class SesError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message)
  }
}

// Sandbox example values from the SES model's GetSendQuota example.
const DEFAULT_QUOTA: SendQuota = { Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 1 }

export async function startSesStub({
  listenPort = 0,
  sendBounceRate,
}: {
  listenPort?: number
  sendBounceRate?: number
} = {}): Promise<SesStub> {
  const requests: SesRequest[] = []
  let bounceRate = sendBounceRate
  let lastAcceptedBounce = Number.NEGATIVE_INFINITY
  const faults = new Map<string, SesFault[]>()
  let quota = { ...DEFAULT_QUOTA }
  let statistics: SendDataPoint[] = []
  let activeRuleSet: string | undefined

  const results: Record<(typeof ACTIONS)[number], (p: Record<string, string>) => string> = {
    SendBounce: (p) => {
      validateSendBounce(p)
      return messageIdXml()
    },
    SendEmail: messageIdXml,
    SendRawEmail: messageIdXml,
    GetSendQuota: () =>
      `<Max24HourSend>${quota.Max24HourSend}</Max24HourSend><MaxSendRate>${quota.MaxSendRate}</MaxSendRate>` +
      `<SentLast24Hours>${quota.SentLast24Hours}</SentLast24Hours>`,
    GetSendStatistics: () =>
      `<SendDataPoints>${statistics
        .map(
          (d) =>
            `<member><Timestamp>${d.Timestamp.toISOString()}</Timestamp>` +
            `<DeliveryAttempts>${d.DeliveryAttempts}</DeliveryAttempts><Bounces>${d.Bounces}</Bounces>` +
            `<Complaints>${d.Complaints}</Complaints><Rejects>${d.Rejects}</Rejects></member>`,
        )
        .join('')}</SendDataPoints>`,
    // Minimal: the active set's metadata without its rules; no Metadata when none is active.
    DescribeActiveReceiptRuleSet: () =>
      activeRuleSet === undefined
        ? ''
        : `<Metadata><Name>${escapeXml(activeRuleSet)}</Name>` +
          `<CreatedTimestamp>2026-01-01T00:00:00.000Z</CreatedTimestamp></Metadata><Rules/>`,
    // Without RuleSetName every set is deactivated (API reference: SetActiveReceiptRuleSet).
    SetActiveReceiptRuleSet: (p) => {
      activeRuleSet = p.RuleSetName === undefined || p.RuleSetName === '' ? undefined : p.RuleSetName
      return ''
    },
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const rawBody = Buffer.concat(chunks).toString('utf8')
    const at = Date.now()
    const params = Object.fromEntries(new URLSearchParams(rawBody))
    const action = params.Action ?? ''
    const request: SesRequest = { action, params, rawBody, headers: req.headers, at, status: 0 }
    requests.push(request)
    res.on('finish', () => {
      request.status = res.statusCode
    })

    try {
      checkWireForm(req, params)
      if (action === 'SendBounce' && bounceRate !== undefined) {
        if (at - lastAcceptedBounce < 1000 / bounceRate) {
          throw new SesError('Throttling', 'Maximum SendBounce rate exceeded.')
        }
        lastAcceptedBounce = at
      }
      const fault = faults.get(action)?.shift()
      if (fault && 'delayMs' in fault) {
        const aborted = new AbortController()
        res.on('close', () => aborted.abort())
        await sleep(fault.delayMs, undefined, { signal: aborted.signal }).catch(() => {})
        if (res.destroyed) return
      } else if (fault) {
        throw new SesError(fault.code, fault.message ?? `Injected ${fault.code}`, fault.status)
      }
      const result = results[action as keyof typeof results](params)
      send(
        res,
        200,
        `<${action}Response xmlns="${XMLNS}"><${action}Result>${result}</${action}Result>` +
          `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
      )
    } catch (error) {
      const e = error instanceof SesError ? error : new SesError('InternalFailure', String(error), 500)
      send(
        res,
        e.status,
        `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${e.status < 500 ? 'Sender' : 'Receiver'}</Type>` +
          `<Code>${escapeXml(e.code)}</Code><Message>${escapeXml(e.message)}</Message></Error>` +
          `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      )
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    requestsFor: (action) => requests.filter((r) => r.action === action),
    failNext(action, fault, times = 1) {
      const queue = faults.get(action) ?? []
      for (let i = 0; i < times; i++) queue.push(fault)
      faults.set(action, queue)
    },
    setQuota(q) {
      quota = { ...quota, ...q }
    },
    setStatistics(points) {
      statistics = [...points]
    },
    get activeRuleSet() {
      return activeRuleSet
    },
    set activeRuleSet(name) {
      activeRuleSet = name
    },
    get sendBounceRate() {
      return bounceRate
    },
    set sendBounceRate(rate) {
      bounceRate = rate
      lastAcceptedBounce = Number.NEGATIVE_INFINITY
    },
    reset() {
      requests.length = 0
      lastAcceptedBounce = Number.NEGATIVE_INFINITY
      faults.clear()
      quota = { ...DEFAULT_QUOTA }
      statistics = []
      activeRuleSet = undefined
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        // Also drops requests parked by a delay fault, which would otherwise hold close() open.
        server.closeAllConnections()
      }),
  }
}

function checkWireForm(req: IncomingMessage, params: Record<string, string>): void {
  if (req.method !== 'POST' || req.url !== '/') {
    throw new SesError('InvalidAction', `Expected POST /, got ${req.method} ${req.url}`)
  }
  const contentType = req.headers['content-type'] ?? ''
  if (contentType.split(';')[0]?.trim() !== 'application/x-www-form-urlencoded') {
    throw new SesError(
      'InvalidParameterValue',
      `Expected application/x-www-form-urlencoded, got '${contentType}'`,
    )
  }
  const auth = req.headers.authorization
  if (!auth) throw new SesError('MissingAuthenticationToken', 'Request is missing Authentication Token')
  if (!SES_AUTH.test(auth)) {
    throw new SesError(
      'IncompleteSignature',
      `Authorization is not SigV4 scoped to ses/aws4_request: ${auth}`,
    )
  }
  if (params.Version !== '2010-12-01') {
    throw new SesError('InvalidParameterValue', `Expected Version=2010-12-01, got '${params.Version}'`)
  }
  if (!(ACTIONS as readonly string[]).includes(params.Action ?? '')) {
    throw new SesError('InvalidAction', `Unsupported action '${params.Action}'`)
  }
}

function invalid(message: string): never {
  throw new SesError('InvalidParameterValue', message)
}

function validateSendBounce(p: Record<string, string>): void {
  if (!p.OriginalMessageId) invalid('OriginalMessageId is required')
  if (!p.BounceSender) invalid('BounceSender is required')

  const hasMessageDsn = Object.keys(p).some((k) => k.startsWith('MessageDsn.'))
  if (hasMessageDsn && !p['MessageDsn.ReportingMta']) invalid('MessageDsn.ReportingMta is required')
  checkTimestamp(p, 'MessageDsn.ArrivalDate')
  checkExtensionFields(p, 'MessageDsn.ExtensionFields')

  const recipients = memberIndexes(p, 'BouncedRecipientInfoList')
  if (recipients.length === 0) invalid('BouncedRecipientInfoList must contain at least one member')
  for (const n of recipients) {
    const m = `BouncedRecipientInfoList.member.${n}`
    if (!p[`${m}.Recipient`]) invalid(`${m}.Recipient is required`)
    const bounceType = p[`${m}.BounceType`]
    const dsn = `${m}.RecipientDsnFields`
    const hasDsn = Object.keys(p).some((k) => k.startsWith(`${dsn}.`))
    if (bounceType === undefined && !hasDsn) invalid(`${m} needs BounceType or RecipientDsnFields`)
    if (bounceType !== undefined && !BOUNCE_TYPES.includes(bounceType)) {
      invalid(`${m}.BounceType '${bounceType}' is not a valid BounceType`)
    }
    if (hasDsn) {
      const action = p[`${dsn}.Action`]
      if (!action || !DSN_ACTIONS.includes(action)) invalid(`${dsn}.Action must be one of ${DSN_ACTIONS}`)
      if (!p[`${dsn}.Status`]) invalid(`${dsn}.Status is required`)
      checkTimestamp(p, `${dsn}.LastAttemptDate`)
      checkExtensionFields(p, `${dsn}.ExtensionFields`)
    }
  }
}

function checkExtensionFields(p: Record<string, string>, list: string): void {
  for (const n of memberIndexes(p, list)) {
    const name = p[`${list}.member.${n}.Name`] ?? ''
    const value = p[`${list}.member.${n}.Value`]
    if (!/^[A-Za-z0-9-]{1,50}$/.test(name)) invalid(`${list}.member.${n}.Name '${name}' is invalid`)
    if (value === undefined) invalid(`${list}.member.${n}.Value is required`)
    if (value.length > 2048 || /[\r\n]/.test(value)) invalid(`${list}.member.${n}.Value is invalid`)
  }
}

function checkTimestamp(p: Record<string, string>, key: string): void {
  const value = p[key]
  if (value !== undefined && !ISO_8601.test(value)) invalid(`${key} '${value}' is not an ISO 8601 timestamp`)
}

/** The distinct N of `<list>.member.N.*` keys, ascending. */
function memberIndexes(p: Record<string, string>, list: string): number[] {
  const prefix = `${list}.member.`
  const indexes = new Set<number>()
  for (const key of Object.keys(p)) {
    if (!key.startsWith(prefix)) continue
    const n = Number(key.slice(prefix.length).split('.')[0])
    if (Number.isInteger(n)) indexes.add(n)
  }
  return [...indexes].sort((a, b) => a - b)
}

// Shaped like a real SES message id; fresh on every call.
function messageIdXml(): string {
  return `<MessageId>0100${Date.now().toString(16)}-${randomUUID()}-000000</MessageId>`
}

function send(res: ServerResponse, status: number, xml: string): void {
  if (res.destroyed) return
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() })
  res.end(xml)
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`)
}
