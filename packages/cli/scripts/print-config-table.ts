// Prints the settings table of CONFIG.md: `npx tsx --conditions=@grapevine/source packages/cli/scripts/print-config-table.ts`.
import { renderConfigTable } from '../src/config/config-table.js'

console.log(renderConfigTable())
