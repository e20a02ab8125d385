/**
 * Where a command's output goes. Human-readable text is made inert on the way out (see `inert`);
 * machine output (`--json`) is written exactly as given.
 */
export interface Output {
  /** Human-readable text for standard output; control characters are escaped. */
  text(text: string): void
  /** Exact machine-readable text (JSON) for standard output. */
  data(text: string): void
  /** Notes and errors for standard error; control characters are escaped. */
  note(text: string): void
  /** A terminal for progress bars, when standard error is one. */
  readonly progress?: NodeJS.WriteStream
}

/**
 * Control characters a sender put in a header, an address or an attachment name must never reach
 * the operator's terminal as such: `ESC [ 2 J` clears the screen, an OSC sequence can set the
 * window title or a clipboard, a bidirectional override (U+202E) makes `exe.pdf` read as
 * `fdp.exe`. Each becomes a visible escape (`\x1b`, `\u202e`). Newlines are kept only where the
 * command itself laid out lines (`keepNewlines`), never inside a value.
 */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const UNSAFE_IN_VALUE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: as above, newline and tab included
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

export function inert(text: string, { keepNewlines = false } = {}): string {
  return text.replace(keepNewlines ? UNSAFE : UNSAFE_IN_VALUE, escapeCharacter)
}

/**
 * A report laid out as lines, each made inert: a newline or control character inside a value is
 * escaped, never laid out (a table goes in as its lines: `...formatTable(…).split('\n')`).
 */
export function onLines(lines: readonly string[]): string {
  return lines.map((line) => inert(line)).join('\n')
}

function escapeCharacter(char: string): string {
  const code = char.charCodeAt(0)
  if (char === '\n') return '\\n'
  if (char === '\t') return '\\t'
  if (char === '\r') return '\\r'
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`
}

/** Output to two writers (the bin's process streams, or strings in tests). */
export function outputTo(
  stdout: (text: string) => void,
  stderr: (text: string) => void,
  progress?: NodeJS.WriteStream,
): Output {
  return {
    text: (text) => stdout(`${inert(text, { keepNewlines: true })}\n`),
    data: (text) => stdout(`${text}\n`),
    note: (text) => stderr(`${inert(text, { keepNewlines: true })}\n`),
    ...(progress === undefined ? {} : { progress }),
  }
}
