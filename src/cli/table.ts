import { inert } from './output.js'

/**
 * Plain aligned columns, for terminals and pasting into tickets. Every cell is made inert first, a
 * newline or tab included, so that a value can neither break the layout nor drive the terminal.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((row) => row.map((cell) => inert(cell)))
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((row) => row[column]?.length ?? 0)),
  )
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join('\n')
}
