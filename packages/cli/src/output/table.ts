/**
 * Renders rows as a plain-text table: a header, columns padded to their widest cell, two
 * spaces between columns, no trailing spaces. Plain ASCII so it survives pipes, `less`, logs
 * and terminals without Unicode box drawing.
 */
export function renderTable(
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  )
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

/** `a, b, c`, or a dash for an empty list, so empty cells stay visible in a table. */
export function list(items: readonly string[]): string {
  return items.length === 0 ? '-' : items.join(',')
}

/** `zone=a,tier=web`, sorted by key; a dash when empty. */
export function pairs(record: Readonly<Record<string, string>>): string {
  const keys = Object.keys(record).sort()
  return keys.length === 0 ? '-' : keys.map((key) => `${key}=${record[key]}`).join(',')
}

/** Peer ids are 52 characters; tables show the last 8, which is enough to tell peers apart. */
export function shortId(id: string): string {
  return id.length > 12 ? `…${id.slice(-8)}` : id
}
