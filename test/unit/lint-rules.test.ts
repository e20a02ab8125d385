import { describe, expect, it } from 'vitest'
import { lintRules } from '../../src/config/lint-rules.js'
import { formatProblem } from '../../src/config/problems.js'
import { ruleSet } from './support/builders.js'

const lint = (rules: string, lists: Record<string, string> = {}) =>
  lintRules(ruleSet(rules, { lists }).rules).map(formatProblem)

describe('lintRules: valid but risky', () => {
  it('an accept keyed on From without DMARC or DKIM passing can be forged', () => {
    expect(
      lint(`
  - name: partners
    when: { from: { in: ["*@partner.example"] } }
    accept: true
  - name: partners-spf
    when: { from: { in: ["*@partner.example"] }, verdict: { spf: PASS, dmarc: [PASS, GRAY] } }
    accept: true
  - name: partners-dmarc
    when: { from: { in: ["*@partner.example"] }, verdict: { dmarc: PASS } }
    accept: true
  - name: partners-drop
    when: { from: { in: ["*@partner.example"] } }
    drop: true`),
    ).toEqual([
      'rules[0] "partners": accepts on the From header alone, which anyone can forge: add verdict: { dmarc: PASS } so only mail the domain signed is let through',
      'rules[1] "partners-spf": accepts on the From header alone, which anyone can forge: add verdict: { dmarc: PASS } so only mail the domain signed is let through',
    ])
  })

  it('a rule after one that matches every recipient can never match', () => {
    expect(
      lint(`
  - name: everyone
    accept: true
  - name: later
    when: { recipient: { in: [a@example.com] } }
    drop: true`),
    ).toEqual(['rules[1] "later": can never match: rules[0] "everyone" before it matches every recipient'])
  })

  it('an unconditional bounce still leaves postmaster to later accept and drop rules', () => {
    expect(
      lint(`
  - name: closed
    bounce: { type: DoesNotExist }
  - name: postmaster
    accept: true
  - name: another-bounce
    when: { size: { over: 1M } }
    bounce: { type: MessageTooLarge }`),
    ).toEqual([
      'rules[0] "closed": bounces every message, whoever it was for: add a recipient, sender or content condition, or drop instead',
      'rules[1] "postmaster": only postmaster and addresses without a domain reach it: rules[0] "closed" bounces every other recipient',
      'rules[2] "another-bounce": can never match: rules[0] "closed" before it matches every recipient',
    ])
  })

  it('a bounce on verdicts alone bounces whoever the mail was for; a drop does not warn', () => {
    expect(
      lint(`
  - name: dmarc-bounce
    when: { verdict: { dmarc: FAIL }, dmarcPolicy: reject }
    bounce: { type: ContentRejected }
  - name: dmarc-drop
    when: { verdict: { dmarc: FAIL }, dmarcPolicy: reject }
    drop: true
  - name: unknown
    when: { recipient: { notIn: [a@example.com] } }
    bounce: { type: DoesNotExist }`),
    ).toEqual([
      'rules[0] "dmarc-bounce": bounces every message its verdicts match, whoever it was for: add a recipient, sender or content condition, or drop instead',
    ])
  })
})
