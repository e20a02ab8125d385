import type { Context } from 'aws-lambda'
import { createActivateRuleSetRuntime } from '../src/runtime/activate-rule-set-runtime.js'

/**
 * CloudFormation custom resource (Custom::SesActiveReceiptRuleSet): activates the stack's receipt
 * rule set, which CloudFormation itself cannot, and deactivates it when the stack removes it.
 */
const runtime = createActivateRuleSetRuntime(process.env)

/** The event is checked whole before anything is called: it is typed as what it may be, anything. */
export const handler = async (event: unknown, context: Context): Promise<void> => {
  runtime.logger.addContext(context)
  await runtime.handleEvent(event, context)
}
