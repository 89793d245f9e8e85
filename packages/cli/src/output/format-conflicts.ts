import type { Conflict } from '@grapevine/core'
import { renderTable, shortId } from './table.js'

/** `grapevine conflicts`: instance ids that several live nodes claim at once. */
export function formatConflicts(conflicts: readonly Conflict[]): string {
  if (conflicts.length === 0) return 'No conflicts.'
  const rows = conflicts.map((c) => [
    c.id,
    c.winner.name,
    shortId(c.winner.node),
    c.claimants.map(shortId).join(','),
  ])
  return renderTable(['ID', 'SERVICE', 'WINNER', 'CLAIMANTS'], rows)
}
