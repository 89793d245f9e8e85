import type { Member } from '@grapevine/core'
import { formatDuration } from '../duration.js'
import { list, renderTable } from './table.js'

/**
 * `grapevine members`: one row per member, this node first and marked `*`, by node name (a
 * dash until the member's name is known) next to its peer id.
 */
export function formatMembers(members: readonly Member[]): string {
  if (members.length === 0) return 'No members.'
  const rows = members.map((m) => [
    `${m.self ? '*' : ' '} ${m.name ?? '-'}`,
    m.id,
    m.state,
    String(m.gen),
    m.self ? '-' : m.lastHeardMsAgo === null ? 'never' : `${formatDuration(m.lastHeardMsAgo)} ago`,
    list(m.addresses),
  ])
  const counts = new Map<string, number>()
  for (const m of members) counts.set(m.state, (counts.get(m.state) ?? 0) + 1)
  const summary = [...counts].map(([state, n]) => `${n} ${state}`).join(', ')
  return `${renderTable(['  NAME', 'PEER ID', 'STATE', 'GEN', 'LAST HEARD', 'ADDRESSES'], rows)}\n\n${members.length} members (${summary}); * = this node`
}
