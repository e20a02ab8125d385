import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import {
  type BouncedRecipientInfo,
  type BounceType,
  type DsnAction,
  GetSendQuotaCommand,
  GetSendStatisticsCommand,
  type MessageDsn,
  MessageRejected,
  type RecipientDsnFields,
  SESClient,
  type SESClientConfig,
  SendBounceCommand,
  type SendBounceCommandInput,
  SendEmailCommand,
  SendRawEmailCommand,
} from '@aws-sdk/client-ses'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { type DynamoServer, startDynamo } from '../support/dynamo-server.js'
import { type S3Server, startS3Server } from '../support/s3-server.js'
import { type SesStub, startSesStub } from '../support/ses-stub.js'

async function readAll(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of body as Readable) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

describe('SES stub', () => {
  let stub: SesStub
  // No explicit endpoint: the client must find the stub through AWS_ENDPOINT_URL_SES, as production will.
  const ses = (config: SESClientConfig = {}) => new SESClient(config)

  beforeAll(async () => {
    stub = await startSesStub()
    vi.stubEnv('AWS_ENDPOINT_URL_SES', stub.url)
  })
  afterAll(async () => {
    vi.unstubAllEnvs()
    await stub.close()
  })
  beforeEach(() => stub.reset())

  const messageDsn: MessageDsn = {
    ReportingMta: 'dns; mx.example.com',
    ArrivalDate: new Date('2019-08-05T21:30:02Z'),
    ExtensionFields: [{ Name: 'X-Bouncer', Value: 'ses-bouncer' }],
  }
  const dsnFields: RecipientDsnFields = {
    Action: 'failed',
    Status: '5.7.1',
    DiagnosticCode: 'smtp; 550 5.7.1 rejected',
    LastAttemptDate: new Date('2019-08-05T21:30:03Z'),
    ExtensionFields: [{ Name: 'X-Rule', Value: 'deny-list' }],
  }
  const plainRecipient: BouncedRecipientInfo = { Recipient: 'gone@example.com', BounceType: 'DoesNotExist' }
  const bounce = (override: Partial<SendBounceCommandInput> = {}): SendBounceCommandInput => ({
    OriginalMessageId: 'o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1',
    BounceSender: 'mailer-daemon@example.com',
    Explanation: 'No such user & no forwarding',
    MessageDsn: messageDsn,
    BouncedRecipientInfoList: [
      plainRecipient,
      { Recipient: 'blocked@example.com', RecipientDsnFields: dsnFields },
    ],
    ...override,
  })
  const withDsnFields = (fields: Partial<RecipientDsnFields>) =>
    bounce({
      BouncedRecipientInfoList: [
        { Recipient: 'blocked@example.com', RecipientDsnFields: { ...dsnFields, ...fields } },
      ],
    })
  const withExtension = (Name: string, Value: string) =>
    bounce({ MessageDsn: { ...messageDsn, ExtensionFields: [{ Name, Value }] } })

  it('answers SendBounce and records the exact form params', async () => {
    const client = ses()
    const first = await client.send(new SendBounceCommand(bounce()))
    const second = await client.send(new SendBounceCommand(bounce()))

    expect(first.MessageId).toMatch(/^0100[0-9a-f]+-[0-9a-f-]{36}-000000$/)
    expect(second.MessageId).not.toBe(first.MessageId)
    const [recorded] = stub.requestsFor('SendBounce')
    expect(stub.requests).toHaveLength(2)
    expect(recorded?.params).toEqual({
      Action: 'SendBounce',
      Version: '2010-12-01',
      OriginalMessageId: 'o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1',
      BounceSender: 'mailer-daemon@example.com',
      Explanation: 'No such user & no forwarding',
      'MessageDsn.ReportingMta': 'dns; mx.example.com',
      'MessageDsn.ArrivalDate': '2019-08-05T21:30:02Z',
      'MessageDsn.ExtensionFields.member.1.Name': 'X-Bouncer',
      'MessageDsn.ExtensionFields.member.1.Value': 'ses-bouncer',
      'BouncedRecipientInfoList.member.1.Recipient': 'gone@example.com',
      'BouncedRecipientInfoList.member.1.BounceType': 'DoesNotExist',
      'BouncedRecipientInfoList.member.2.Recipient': 'blocked@example.com',
      'BouncedRecipientInfoList.member.2.RecipientDsnFields.Action': 'failed',
      'BouncedRecipientInfoList.member.2.RecipientDsnFields.Status': '5.7.1',
      'BouncedRecipientInfoList.member.2.RecipientDsnFields.DiagnosticCode': 'smtp; 550 5.7.1 rejected',
      'BouncedRecipientInfoList.member.2.RecipientDsnFields.LastAttemptDate': '2019-08-05T21:30:03Z',
      'BouncedRecipientInfoList.member.2.RecipientDsnFields.ExtensionFields.member.1.Name': 'X-Rule',
      'BouncedRecipientInfoList.member.2.RecipientDsnFields.ExtensionFields.member.1.Value': 'deny-list',
    })
    expect(recorded?.rawBody).toMatch(/^Action=SendBounce&Version=2010-12-01&/)
    expect(recorded?.headers.authorization).toContain('/us-east-1/ses/aws4_request')
    client.destroy()
  })

  it('accepts extension fields at the limits', async () => {
    const input = withExtension('X'.repeat(50), 'v'.repeat(2048))
    await expect(ses().send(new SendBounceCommand(input))).resolves.toHaveProperty('MessageId')
  })

  it.each<[string, SendBounceCommandInput]>([
    ['missing OriginalMessageId', bounce({ OriginalMessageId: undefined })],
    ['missing BounceSender', bounce({ BounceSender: undefined })],
    ['empty BouncedRecipientInfoList', bounce({ BouncedRecipientInfoList: [] })],
    [
      'recipient without Recipient',
      bounce({ BouncedRecipientInfoList: [{ ...plainRecipient, Recipient: undefined }] }),
    ],
    [
      'recipient without BounceType or RecipientDsnFields',
      bounce({ BouncedRecipientInfoList: [{ Recipient: 'a@b.c' }] }),
    ],
    [
      'unknown BounceType',
      bounce({ BouncedRecipientInfoList: [{ ...plainRecipient, BounceType: 'Bogus' as BounceType }] }),
    ],
    ['RecipientDsnFields without Action', withDsnFields({ Action: undefined })],
    ['RecipientDsnFields with bad Action', withDsnFields({ Action: 'FAILED' as DsnAction })],
    ['RecipientDsnFields without Status', withDsnFields({ Status: undefined })],
    ['MessageDsn without ReportingMta', bounce({ MessageDsn: { ...messageDsn, ReportingMta: undefined } })],
    ['empty extension name', withExtension('', 'v')],
    ['extension name of 51 chars', withExtension('X'.repeat(51), 'v')],
    ['extension name with _', withExtension('X_Y', 'v')],
    ['extension value of 2049 chars', withExtension('X', 'v'.repeat(2049))],
    ['extension value with LF', withExtension('X', 'a\nb')],
    ['recipient extension value with CR', withDsnFields({ ExtensionFields: [{ Name: 'X', Value: 'a\rb' }] })],
  ])('rejects SendBounce with %s as InvalidParameterValue', async (_, input) => {
    const error = await ses()
      .send(new SendBounceCommand(input))
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'InvalidParameterValue', $metadata: { httpStatusCode: 400 } })
  })

  describe('rejects a wrong wire form', () => {
    const auth =
      'AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/ses/aws4_request, SignedHeaders=host, ' +
      `Signature=${'0'.repeat(64)}`
    const form = 'application/x-www-form-urlencoded'
    it.each([
      ['GET', { authorization: auth }, undefined, 'InvalidAction'],
      [
        'POST',
        { 'content-type': form },
        'Action=GetSendQuota&Version=2010-12-01',
        'MissingAuthenticationToken',
      ],
      [
        'POST',
        { 'content-type': form, authorization: auth.replace('/ses/', '/s3/') },
        'Action=GetSendQuota&Version=2010-12-01',
        'IncompleteSignature',
      ],
      ['POST', { 'content-type': 'application/json', authorization: auth }, '{}', 'InvalidParameterValue'],
      ['POST', { 'content-type': form, authorization: auth }, 'Action=GetSendQuota', 'InvalidParameterValue'],
      [
        'POST',
        { 'content-type': form, authorization: auth },
        'Action=DeleteIdentity&Version=2010-12-01',
        'InvalidAction',
      ],
    ])('%s %j %s → %s', async (method, headers, body, code) => {
      const res = await fetch(`${stub.url}/`, { method, headers, body })
      expect(res.status).toBe(400)
      expect(await res.text()).toMatch(
        new RegExp(
          `^<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>${code}</Code>`,
        ),
      )
      expect(stub.requests).toHaveLength(1)
    })
  })

  it('surfaces an injected MessageRejected as the modeled error, without retry', async () => {
    stub.failNext('SendBounce', {
      status: 400,
      code: 'MessageRejected',
      message: 'Email address is not verified.',
    })
    const error = await ses()
      .send(new SendBounceCommand(bounce()))
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MessageRejected)
    expect(error).toMatchObject({
      message: 'Email address is not verified.',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    })
    expect(stub.requestsFor('SendBounce')).toHaveLength(1)
  })

  it('lets the SDK retry Throttling and 503, then succeed', async () => {
    stub.failNext('SendBounce', { status: 400, code: 'Throttling', message: 'Rate exceeded' })
    stub.failNext('SendBounce', { status: 503, code: 'ServiceUnavailable' })
    const result = await ses().send(new SendBounceCommand(bounce()))
    expect(result.MessageId).toBeTruthy()
    expect(stub.requestsFor('SendBounce')).toHaveLength(3)
  })

  it('gives up after maxAttempts of a persistent InternalFailure', async () => {
    stub.failNext('GetSendQuota', { status: 500, code: 'InternalFailure' }, 2)
    const error = await ses({ maxAttempts: 2 })
      .send(new GetSendQuotaCommand({}))
      .catch((e: unknown) => e)
    expect(error).toMatchObject({
      name: 'InternalFailure',
      $fault: 'server',
      $metadata: { httpStatusCode: 500 },
    })
    expect(stub.requestsFor('GetSendQuota')).toHaveLength(2)
  })

  it('answers slowly on a delay fault so client timeouts fire', async () => {
    stub.failNext('GetSendQuota', { delayMs: 2_000 })
    // Without throwOnRequestTimeout this SDK version only logs a warning when requestTimeout passes.
    const client = ses({
      maxAttempts: 1,
      requestHandler: { requestTimeout: 100, throwOnRequestTimeout: true },
    })
    await expect(client.send(new GetSendQuotaCommand({}))).rejects.toMatchObject({ name: 'TimeoutError' })
    await expect(client.send(new GetSendQuotaCommand({}))).resolves.toHaveProperty('Max24HourSend')
  })

  it('answers GetSendQuota with the configured quota', async () => {
    const client = ses()
    expect(await client.send(new GetSendQuotaCommand({}))).toMatchObject({
      Max24HourSend: 200,
      MaxSendRate: 1,
      SentLast24Hours: 1,
    })
    stub.setQuota({ Max24HourSend: -1, MaxSendRate: 14.5, SentLast24Hours: 1234 })
    expect(await client.send(new GetSendQuotaCommand({}))).toMatchObject({
      Max24HourSend: -1,
      MaxSendRate: 14.5,
      SentLast24Hours: 1234,
    })
  })

  it('answers GetSendStatistics with the configured points', async () => {
    const client = ses()
    expect((await client.send(new GetSendStatisticsCommand({}))).SendDataPoints ?? []).toEqual([])
    const points = [
      {
        Timestamp: new Date('2026-01-02T10:15:00Z'),
        DeliveryAttempts: 100,
        Bounces: 3,
        Complaints: 1,
        Rejects: 0,
      },
      {
        Timestamp: new Date('2026-01-02T10:00:00Z'),
        DeliveryAttempts: 7,
        Bounces: 0,
        Complaints: 0,
        Rejects: 2,
      },
    ]
    stub.setStatistics(points)
    expect((await client.send(new GetSendStatisticsCommand({}))).SendDataPoints).toEqual(points)
  })

  it('answers SendEmail and SendRawEmail with a MessageId', async () => {
    const client = ses()
    const email = await client.send(
      new SendEmailCommand({
        Source: 'a@example.com',
        Destination: { ToAddresses: ['b@example.com'] },
        Message: { Subject: { Data: 's' }, Body: { Text: { Data: 'b' } } },
      }),
    )
    const raw = await client.send(
      new SendRawEmailCommand({ RawMessage: { Data: Buffer.from('Subject: s\r\n\r\nb') } }),
    )
    expect(email.MessageId).toBeTruthy()
    expect(raw.MessageId).toBeTruthy()
    expect(stub.requestsFor('SendRawEmail')[0]?.params['RawMessage.Data']).toBe(
      Buffer.from('Subject: s\r\n\r\nb').toString('base64'),
    )
  })

  it('reset() drops recorded requests, pending faults, quota and statistics', async () => {
    stub.failNext('GetSendQuota', { status: 400, code: 'MessageRejected' })
    stub.setQuota({ Max24HourSend: 5 })
    await ses().send(new GetSendStatisticsCommand({}))
    stub.reset()
    expect(stub.requests).toHaveLength(0)
    await expect(ses().send(new GetSendQuotaCommand({}))).resolves.toMatchObject({ Max24HourSend: 200 })
  })
})

describe('S3 server', () => {
  let s3: S3Server
  const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i))

  beforeAll(async () => {
    s3 = await startS3Server({ buckets: ['mail'] })
  })
  afterAll(async () => {
    vi.unstubAllEnvs()
    await s3.close()
  })

  it('round-trips every byte value exactly, read as a stream', async () => {
    await s3.putObject('mail', 'binary', everyByte)
    const { Body } = await s3.client.send(new GetObjectCommand({ Bucket: 'mail', Key: 'binary' }))
    expect(Body).toBeInstanceOf(Readable)
    expect((await readAll(Body)).equals(everyByte)).toBe(true)
  })

  it('round-trips a streamed upload (no aws-chunked framing stored)', async () => {
    await s3.client.send(
      new PutObjectCommand({
        Bucket: 'mail',
        Key: 'streamed',
        Body: Readable.from([everyByte]),
        ContentLength: 256,
      }),
    )
    const { Body } = await s3.client.send(new GetObjectCommand({ Bucket: 'mail', Key: 'streamed' }))
    expect((await readAll(Body)).equals(everyByte)).toBe(true)
  })

  it('round-trips a 30 MB body', async () => {
    const big = randomBytes(30 * 1024 * 1024)
    await s3.putObject('mail', 'big', big)
    const { Body, ContentLength } = await s3.client.send(new GetObjectCommand({ Bucket: 'mail', Key: 'big' }))
    expect(ContentLength).toBe(big.length)
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
    expect(sha(await readAll(Body))).toBe(sha(big))
  })

  it('is reached by a client built like production code, through AWS_ENDPOINT_URL_S3 alone', async () => {
    await s3.putObject('mail', 'messages/abc', everyByte)
    vi.stubEnv('AWS_ENDPOINT_URL_S3', s3.url)
    const client = new S3Client({ forcePathStyle: true })
    const { Body } = await client.send(new GetObjectCommand({ Bucket: 'mail', Key: 'messages/abc' }))
    expect(Buffer.from((await Body?.transformToByteArray()) ?? []).equals(everyByte)).toBe(true)
    client.destroy()
  })

  it('lets a production-style client upload streams with s3.env', async () => {
    for (const [name, value] of Object.entries(s3.env)) vi.stubEnv(name, value)
    const client = new S3Client({ forcePathStyle: true })
    await client.send(
      new PutObjectCommand({
        Bucket: 'mail',
        Key: 'env',
        Body: Readable.from([everyByte]),
        ContentLength: 256,
      }),
    )
    const { Body } = await s3.client.send(new GetObjectCommand({ Bucket: 'mail', Key: 'env' }))
    expect((await readAll(Body)).equals(everyByte)).toBe(true)
    client.destroy()
  })
})

describe('DynamoDB server', () => {
  let dynamo: DynamoServer
  let client: DynamoDBClient

  beforeAll(async () => {
    dynamo = await startDynamo({ tables: [{ name: 'idempotency', partitionKey: 'id' }] })
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.url)
    client = new DynamoDBClient({})
  })
  afterAll(async () => {
    client.destroy()
    vi.unstubAllEnvs()
    await dynamo.close()
  })

  it('honours ConditionExpression on PutItem', async () => {
    const put = () =>
      client.send(
        new PutItemCommand({
          TableName: 'idempotency',
          Item: { id: { S: 'msg-1' }, status: { S: 'INPROGRESS' } },
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': 'id' },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
    await put()
    const error = await put().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConditionalCheckFailedException)
    // dynalite ignores ReturnValuesOnConditionCheckFailure; Powertools idempotency then falls back to GetItem.
    expect((error as ConditionalCheckFailedException).Item).toBeUndefined()
  })

  it('applies UpdateItem ADD and stores a TTL attribute', async () => {
    const expiration = Math.floor(Date.now() / 1000) + 3600
    for (let i = 0; i < 3; i++) {
      await client.send(
        new UpdateItemCommand({
          TableName: 'idempotency',
          Key: { id: { S: 'counter' } },
          UpdateExpression: 'ADD #n :one SET #exp = :exp',
          ExpressionAttributeNames: { '#n': 'count', '#exp': 'expiration' },
          ExpressionAttributeValues: { ':one': { N: '1' }, ':exp': { N: String(expiration) } },
        }),
      )
    }
    const { Item } = await client.send(
      new GetItemCommand({ TableName: 'idempotency', Key: { id: { S: 'counter' } }, ConsistentRead: true }),
    )
    expect(Item).toEqual({ id: { S: 'counter' }, count: { N: '3' }, expiration: { N: String(expiration) } })
  })
})
