'use strict'

/**
 * The CloudWatch dashboard an operator opens first (serverless.yml `BounceDashboard`): what the
 * mail got, what the guards stopped, whether bounces keep up with decisions, how old the oldest
 * queued bounce is, and how much of the SES quota is used. Written here as data rather than as
 * JSON inside YAML; CloudFormation fills in the queue names and the Region (Fn::Sub).
 *
 * Metrics come from the functions' embedded metric format output: namespace SesBouncer,
 * dimension service=ses-bouncer (src/runtime/service.ts), per rule and per guard where noted.
 */

const NAMESPACE = 'SesBouncer'
const SERVICE = ['service', 'ses-bouncer']
const PERIOD = 300

/** A reference CloudFormation's Fn::Sub fills in: `${Resource.Attribute}` or `${AWS::Region}`. */
const sub = (reference) => `\${${reference}}`

const metric = (name, options) => [NAMESPACE, name, ...SERVICE, { stat: 'Sum', ...options }]

/** Sums a metric over every rule that emitted it: one line per decision, whatever the rules are called. */
const overRules = (name, label, id) => ({
  expression: `SUM(SEARCH('{${NAMESPACE},Rule,service} MetricName="${name}"', 'Sum', ${PERIOD}))`,
  label,
  id,
})

const widget = (x, y, properties) => ({
  type: 'metric',
  x,
  y,
  width: 12,
  height: 6,
  properties: {
    region: sub('AWS::Region'),
    period: PERIOD,
    view: 'timeSeries',
    stacked: false,
    ...properties,
  },
})

function dashboardBody(quotaAlarmPercent) {
  return {
    widgets: [
      widget(0, 0, {
        title: 'Messages by decision (recipients)',
        metrics: [
          [overRules('Accepted', 'accepted', 'accepted')],
          [overRules('Bounced', 'bounced', 'bounced')],
          [overRules('Dropped', 'dropped', 'dropped')],
        ],
      }),
      widget(12, 0, {
        title: 'Guarded drops: bounces the safety guard turned into drops, by guard',
        metrics: [
          [
            {
              expression: `SEARCH('{${NAMESPACE},Guard,service} MetricName="GuardedDrops"', 'Sum', ${PERIOD})`,
              label: '',
              id: 'guards',
            },
          ],
        ],
      }),
      widget(0, 6, {
        title: 'Bounces queued vs sent',
        metrics: [
          metric('BouncesQueued', { label: 'queued' }),
          metric('BouncesSent', { label: 'sent' }),
          metric('BouncesExpired', { label: 'expired (over 24 h)' }),
          metric('BouncesRejected', { label: 'rejected by SES' }),
          metric('BouncesThrottled', { label: 'throttled (retried)' }),
        ],
      }),
      widget(12, 6, {
        title: 'Bounce queue: age of the oldest bounce (s) and bounces waiting',
        metrics: [
          [
            'AWS/SQS',
            'ApproximateAgeOfOldestMessage',
            'QueueName',
            sub('BounceQueue.QueueName'),
            { stat: 'Maximum', label: 'oldest bounce (s)' },
          ],
          [
            'AWS/SQS',
            'ApproximateNumberOfMessagesVisible',
            'QueueName',
            sub('BounceQueue.QueueName'),
            { stat: 'Maximum', label: 'waiting', yAxis: 'right' },
          ],
          [
            'AWS/SQS',
            'ApproximateNumberOfMessagesVisible',
            'QueueName',
            sub('BounceDeadLetterQueue.QueueName'),
            { stat: 'Maximum', label: 'dead letters', yAxis: 'right' },
          ],
        ],
        // The alarm's threshold: an hour old leaves 23 of SendBounce's 24 hours.
        annotations: { horizontal: [{ label: 'alarm', value: 3600 }] },
      }),
      widget(0, 12, {
        title: 'SES 24-hour sending quota used (%)',
        metrics: [metric('QuotaUsedPercent', { stat: 'Maximum', label: 'quota used', period: 3600 })],
        yAxis: { left: { min: 0, max: 100 } },
        annotations: { horizontal: [{ label: 'alarm', value: quotaAlarmPercent }] },
      }),
      widget(12, 12, {
        title: 'Time on the queue before SendBounce (s)',
        metrics: [
          metric('BounceQueueDelaySeconds', { stat: 'p99', label: 'p99' }),
          metric('BounceQueueDelaySeconds', { stat: 'Maximum', label: 'max' }),
        ],
      }),
    ],
  }
}

/** `${file(./serverless/dashboard.cjs):body}`: the DashboardBody, a string CloudFormation substitutes. */
module.exports.body = async ({ resolveVariable }) => {
  const percent = Number(await resolveVariable('param:quotaAlarmPercent'))
  return { 'Fn::Sub': JSON.stringify(dashboardBody(Number.isFinite(percent) ? percent : 80)) }
}
module.exports.dashboardBody = dashboardBody
