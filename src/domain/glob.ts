/** Case-insensitive shell-style globs (`*`, `?`) for attachment names and content types. */
export interface Glob {
  readonly source: string
  test(text: string): boolean
}

export function compileGlob(source: string): Glob {
  const body = Array.from(source, (char) => {
    if (char === '*') return '.*'
    if (char === '?') return '.'
    return char.replace(/[\\^$.|+()[\]{}]/g, '\\$&')
  }).join('')
  const regex = new RegExp(`^${body}$`, 'is')
  return { source, test: (text) => regex.test(text) }
}
