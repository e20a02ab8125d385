/** The one error base class: every failure the service raises carries a `cause` when it wraps one. */
export class BouncerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}
