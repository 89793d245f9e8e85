// Prints the settings table of CONFIG.md:
// `npx tsx --conditions=@grapevine/source packages/cli/scripts/print-config-table.ts`;
// with `--write`, replaces the table in CONFIG.md (the lines after the "generated" comment).
import { readFileSync, writeFileSync } from 'node:fs'
import { renderConfigTable } from '../src/config/config-table.js'

const table = renderConfigTable()
if (process.argv.includes('--write')) {
  const path = new URL('../CONFIG.md', import.meta.url)
  const lines = readFileSync(path, 'utf8').split('\n')
  const start = lines.findIndex((line) => line.startsWith('<!-- generated from')) + 1
  if (start === 0) throw new Error('CONFIG.md has no "<!-- generated from" marker')
  let end = start
  while (end < lines.length && lines[end]!.startsWith('|')) end++
  lines.splice(start, end - start, ...table.split('\n'))
  writeFileSync(path, lines.join('\n'))
} else {
  console.log(table)
}
