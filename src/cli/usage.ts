import { BouncerError } from '../domain/errors.js'

/** A mistake on the command line: printed with the command's synopsis, exit code 2. */
export class UsageError extends BouncerError {}

/** A file or object named on the command line that cannot be read: one line, exit code 1. */
export class InputError extends BouncerError {}
