import type { SendBounceRequest } from '../../../src/domain/bounce-request.js'
import type { BounceSender } from '../../../src/ports/index.js'

/** Records each request and signal; fails with the queued errors first, else answers `bounce-<n>`. */
export class FakeSender implements BounceSender {
  readonly requests: SendBounceRequest[] = []
  readonly signals: AbortSignal[] = []
  failures: Error[] = []

  async send(request: SendBounceRequest, signal: AbortSignal): Promise<string> {
    this.requests.push(request)
    this.signals.push(signal)
    const failure = this.failures.shift()
    if (failure !== undefined) throw failure
    return `bounce-${this.requests.length}`
  }
}
