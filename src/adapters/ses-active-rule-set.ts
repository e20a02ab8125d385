import {
  DescribeActiveReceiptRuleSetCommand,
  type SESClient,
  SetActiveReceiptRuleSetCommand,
} from '@aws-sdk/client-ses'
import { type ActiveRuleSet, RuleSetActivationError } from '../ports/receipt-rule-sets.js'
import { describeAwsError } from './aws-errors.js'

/** SES v1 DescribeActiveReceiptRuleSet and SetActiveReceiptRuleSet (SESv2 has no receipt rules). */
export class SesActiveRuleSet implements ActiveRuleSet {
  constructor(private readonly ses: SESClient) {}

  async current(signal: AbortSignal): Promise<string | undefined> {
    try {
      const output = await this.ses.send(new DescribeActiveReceiptRuleSetCommand({}), { abortSignal: signal })
      // No active set: SES answers without Metadata (API reference: DescribeActiveReceiptRuleSet).
      const name = output.Metadata?.Name
      return name === undefined || name === '' ? undefined : name
    } catch (error) {
      throw new RuleSetActivationError(`DescribeActiveReceiptRuleSet: ${describeAwsError(error)}`, {
        cause: error,
      })
    }
  }

  async activate(name: string | undefined, signal: AbortSignal): Promise<void> {
    try {
      // Without RuleSetName, SES deactivates every set (API reference: SetActiveReceiptRuleSet).
      await this.ses.send(
        new SetActiveReceiptRuleSetCommand(name === undefined ? {} : { RuleSetName: name }),
        {
          abortSignal: signal,
        },
      )
    } catch (error) {
      throw new RuleSetActivationError(
        `SetActiveReceiptRuleSet ${name === undefined ? '(none)' : name}: ${describeAwsError(error)}`,
        { cause: error },
      )
    }
  }
}
