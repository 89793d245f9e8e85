/** `--json` output: pretty for one-shot commands, one line per message for streams. */
export function formatJson(value: unknown, { lines = false }: { lines?: boolean } = {}): string {
  return lines ? JSON.stringify(value) : JSON.stringify(value, null, 2)
}
