// Plain-text tables for terminals: every column padded to its widest cell, two spaces between.

/** The rows as lines, each cell padded to its column's widest, trailing spaces trimmed. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length))) ?? [];
  return rows.map((cells) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
}
