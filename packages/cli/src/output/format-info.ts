import type { SelfInfo } from '../api-types.js'

/** `grapevine info`: one `key: value` line each, grouped like `consul info`. */
export function formatInfo(self: SelfInfo): string {
  const { stats } = self
  const dropped = Object.entries(stats.dropped)
  const lines = [
    'agent:',
    `  node_name = ${self.nodeName}`,
    `  peer_id = ${self.peerId}`,
    `  cluster = ${self.cluster}`,
    `  ready = ${self.ready}`,
    `  addresses = ${self.addresses.length === 0 ? '-' : self.addresses.join(', ')}`,
    'registry:',
    `  instances = ${stats.instances}`,
    `  claims = ${stats.claims}`,
    `  conflicts = ${stats.conflicts}`,
    'members:',
    ...Object.entries(stats.peers).map(([state, n]) => `  ${state} = ${n}`),
    'gossip:',
    `  messages_in = ${stats.messagesIn}`,
    `  messages_out = ${stats.messagesOut}`,
    `  bytes_in = ${stats.bytesIn}`,
    `  bytes_out = ${stats.bytesOut}`,
    `  sync_sessions = ${stats.syncSessions}`,
    `  dropped = ${dropped.length === 0 ? 0 : dropped.map(([why, n]) => `${why}:${n}`).join(', ')}`,
  ]
  return lines.join('\n')
}
