// Sanity test of the hostile-input corpus (test/fixtures/hostile): the corpus is deterministic and
// cheap to build, and mailparser's streaming MailParser — what src/adapters uses — finishes every
// case (end or an Error event) without hanging, throwing synchronously or holding an attachment.
// It records what mailparser reports; set HOSTILE_CORPUS_REPORT=1 to print the README table rows.

import { readdirSync, readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import type { AttachmentStream, MessageText } from 'mailparser'
import { MailParser } from 'mailparser'
import { afterAll, describe, expect, it } from 'vitest'
import { expectedFilenames, type HostileCase, hostileMessages } from '../fixtures/hostile/corpus.js'

const PER_CASE_TIMEOUT_MS = 10_000
const CHUNK = 64 * 1024

type Outcome =
  | { kind: 'end' }
  | { kind: 'error'; error: Error }
  | { kind: 'hung' }
  | { kind: 'sync-throw'; error: unknown }

type Observation = {
  outcome: Outcome
  filenames: (string | undefined)[]
  attachmentBytes: number
  ms: number
  peakHeapDeltaMb: number
}

function* chunks(bytes: Buffer): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += CHUNK) yield bytes.subarray(i, i + CHUNK)
}

function parseStreaming(bytes: Buffer): Promise<Observation> {
  const started = performance.now()
  const baseHeap = process.memoryUsage().heapUsed
  let peakHeap = baseHeap
  const filenames: (string | undefined)[] = []
  let attachmentBytes = 0

  return new Promise((resolve) => {
    let parser: MailParser | undefined
    let settled = false
    const sampler = setInterval(() => {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
    }, 5)
    const timer = setTimeout(() => settle({ kind: 'hung' }), PER_CASE_TIMEOUT_MS)
    function settle(outcome: Outcome): void {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearInterval(sampler)
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
      if (outcome.kind !== 'end') parser?.destroy()
      resolve({
        outcome,
        filenames,
        attachmentBytes,
        ms: performance.now() - started,
        peakHeapDeltaMb: (peakHeap - baseHeap) / 2 ** 20,
      })
    }

    try {
      parser = new MailParser()
      parser.on('data', (data: AttachmentStream | MessageText) => {
        if (data.type !== 'attachment') return
        filenames.push(data.filename)
        // the parser does not continue until the content is consumed and the attachment released
        data.content.on('data', (chunk: Buffer) => {
          attachmentBytes += chunk.length
        })
        data.content.on('end', () => data.release?.())
        data.content.on('error', (error: Error) => settle({ kind: 'error', error }))
      })
      parser.on('error', (error: Error) => settle({ kind: 'error', error }))
      parser.on('end', () => settle({ kind: 'end' }))
      Readable.from(chunks(bytes)).pipe(parser)
    } catch (error) {
      settle({ kind: 'sync-throw', error })
    }
  })
}

const generationStarted = performance.now()
const cases: HostileCase[] = hostileMessages()
const generationMs = performance.now() - generationStarted
const observed = new Map<string, Observation>()

describe('hostile corpus', () => {
  it('is deterministic, quick to build and documents the expected filenames of every case', () => {
    const again = hostileMessages()
    expect(again.map((c) => c.name)).toEqual(cases.map((c) => c.name))
    for (const [i, c] of cases.entries()) expect(again[i]?.bytes.equals(c.bytes), c.name).toBe(true)
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length)
    for (const c of cases) expect(Array.isArray(expectedFilenames(c)), c.name).toBe(true)
    expect(generationMs).toBeLessThan(2_000)
    expect(Math.max(...cases.map((c) => c.bytes.length))).toBeLessThan(2 * 2 ** 20)
  })

  it('includes every committed .eml fixture byte for byte', () => {
    const dir = new URL('../fixtures/hostile/', import.meta.url)
    const files = readdirSync(dir).filter((f) => f.endsWith('.eml'))
    expect(files.length).toBeGreaterThan(0)
    for (const file of files) {
      const bytes = readFileSync(new URL(file, dir))
      expect(
        cases.some((c) => c.bytes.equals(bytes)),
        file,
      ).toBe(true)
    }
  })
})

describe('mailparser streaming over the hostile corpus', () => {
  for (const hostile of cases) {
    it(
      `${hostile.name} completes`,
      async () => {
        const observation = await parseStreaming(hostile.bytes)
        observed.set(hostile.name, observation)
        const { outcome } = observation
        expect(outcome.kind, `${hostile.name}: ${outcome.kind}`).not.toBe('hung')
        expect(outcome.kind, `${hostile.name}: ${outcome.kind}`).not.toBe('sync-throw')
        if (outcome.kind === 'error') expect(outcome.error).toBeInstanceOf(Error)
      },
      PER_CASE_TIMEOUT_MS * 2,
    )
  }
})

function summarize(filenames: readonly (string | undefined)[]): string {
  const show = (f: string | undefined) => (f === undefined ? '(none)' : JSON.stringify(f))
  if (filenames.length === 0) return '—'
  if (filenames.length <= 4) return filenames.map(show).join(', ')
  return `${show(filenames[0])} … ${show(filenames.at(-1))} (${filenames.length})`
}

afterAll(() => {
  if (!process.env.HOSTILE_CORPUS_REPORT) return
  const rows = [`generation: ${generationMs.toFixed(1)} ms for ${cases.length} cases`]
  for (const c of cases) {
    const o = observed.get(c.name)
    if (!o) continue
    const outcome = o.outcome.kind === 'error' ? `error: ${o.outcome.error.message}` : o.outcome.kind
    rows.push(
      `| ${c.name} | ${c.bytes.length} | ${summarize(o.filenames)} | ${outcome} | ${o.ms.toFixed(0)} ms | ` +
        `${o.peakHeapDeltaMb.toFixed(1)} MB | ${o.attachmentBytes} |`,
    )
  }
  console.log(rows.join('\n'))
})
