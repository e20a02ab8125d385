import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda'
import { createActivateRuleSetRuntime } from '../src/runtime/activate-rule-set-runtime.js'

/**
 * CloudFormation custom resource (Custom::SesActiveReceiptRuleSet): activates the stack's receipt
 * rule set, which CloudFormation itself cannot, and deactivates it when the stack removes it.
 */
const runtime = createActivateRuleSetRuntime(process.env)

export const handler = async (event: CloudFormationCustomResourceEvent, context: Context): Promise<void> => {
  runtime.logger.addContext(context)
  await runtime.handleEvent(event, context)
}
