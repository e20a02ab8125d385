import { describe, expect, it } from 'vitest'
import { renderDocs } from '../../scripts/docs.js'

/**
 * Every sample file README.md and docs/ show is the real file, and every sample output is what the
 * command prints today (scripts/docs.ts; `npm run docs` regenerates them after a change).
 */
describe('the docs cannot drift', () => {
  it('every marked sample file and command output equals what the repository gives now', async () => {
    const drifts = await renderDocs({ check: true })
    expect(
      drifts.map(({ document, line, marker, actual }) => `${document}:${line} ${marker}\n${actual}`),
      'run `npm run docs` and review the diff',
    ).toEqual([])
  }, 600_000)
})
