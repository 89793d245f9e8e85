import type { FastifyInstance } from 'fastify'
import { NotSupportedError } from '../errors.js'

/**
 * Consul features Grapevine does not have, each with the reason a client gets in its 501.
 * Registered for every method under each prefix, so a client learns at once what is missing
 * instead of reading a 404 as "not found".
 */
const UNSUPPORTED: ReadonlyArray<readonly [prefix: string, feature: string]> = [
  [
    '/v1/acl',
    'Consul ACL (Grapevine has none: protect the API with --token, the cluster with a cluster key)',
  ],
  ['/v1/kv', 'Consul KV, the key/value store (Grapevine is a service registry only)'],
  [
    '/v1/session',
    'Consul sessions (they need a consistent store; Grapevine is eventually consistent)',
  ],
  ['/v1/query', 'Consul prepared queries'],
  ['/v1/connect', 'Consul Connect (service mesh)'],
  ['/v1/agent/connect', 'Consul Connect (service mesh)'],
  ['/v1/txn', 'Consul transactions (they need the key/value store)'],
  ['/v1/snapshot', 'Consul snapshots (there is no server state to snapshot)'],
  ['/v1/operator', 'Consul operator endpoints (there are no servers and no Raft)'],
  ['/v1/event', 'Consul user events'],
  ['/v1/coordinate', 'Consul network coordinates'],
  ['/v1/config', 'Consul configuration entries'],
  [
    '/v1/agent/check/register',
    'Standalone check registration (register checks with their service)',
  ],
  ['/v1/agent/check/deregister', 'Standalone check deregistration (checks go with their service)'],
  ['/v1/agent/maintenance', 'Maintenance mode'],
  ['/v1/agent/service/maintenance', 'Maintenance mode'],
]

export function unsupportedRoutes(server: FastifyInstance): void {
  for (const [prefix, feature] of UNSUPPORTED) {
    const handler = async () => {
      throw new NotSupportedError(feature)
    }
    server.all(prefix, handler)
    server.all(`${prefix}/*`, handler)
  }
}
