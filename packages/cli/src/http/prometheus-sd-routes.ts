import { parseEndpoint, type ServiceInstance, validateName } from '@grapevine/core'
import { memberName } from '../daemon/node-name.js'
import type { HttpRoutes } from './http-routes.js'
import type { QueryString } from './query-params.js'

/** One target group of Prometheus' HTTP service discovery. */
export interface TargetGroup {
  targets: string[]
  labels: Record<string, string>
}

function list(query: QueryString, key: string): string[] {
  const value = query[key]
  if (value === undefined) return []
  return (Array.isArray(value) ? value : [value]).filter((item) => item !== '')
}

/** A metadata key as a label name: Prometheus allows `[a-zA-Z0-9_]` only. */
export function labelName(key: string): string {
  return key.replace(/[^a-zA-Z0-9_]/g, '_')
}

/**
 * Target groups for instances: one per endpoint (`host:port`), labelled with what relabeling
 * rules need, in the names Prometheus' own SDs use (`__meta_<sd>_…`; kept only through
 * relabeling). Tags are joined with the separator at both ends, as consul_sd does, so
 * `.*,edge,.*` matches a tag exactly.
 */
export function targetGroups(
  instances: readonly ServiceInstance[],
  nodeName: (peerId: string) => string,
  schemes: readonly string[],
): TargetGroup[] {
  const groups: TargetGroup[] = []
  for (const instance of instances) {
    for (const url of instance.endpoints) {
      let endpoint: ReturnType<typeof parseEndpoint>
      try {
        endpoint = parseEndpoint(url)
      } catch {
        continue
      }
      if (schemes.length > 0 && !schemes.includes(endpoint.scheme)) continue
      const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host
      const labels: Record<string, string> = {
        __meta_grapevine_service: instance.name,
        __meta_grapevine_instance_id: instance.id,
        __meta_grapevine_version: instance.version,
        __meta_grapevine_status: instance.status,
        __meta_grapevine_node: nodeName(instance.node),
        __meta_grapevine_peer_id: instance.node,
        __meta_grapevine_tags: instance.tags.length === 0 ? '' : `,${instance.tags.join(',')},`,
        __meta_grapevine_endpoint: url,
        __meta_grapevine_scheme: endpoint.scheme,
      }
      for (const [key, value] of Object.entries(instance.metadata)) {
        labels[`__meta_grapevine_metadata_${labelName(key)}`] = value
      }
      groups.push({ targets: [`${host}:${endpoint.port}`], labels })
    }
  }
  return groups
}

/**
 * GET /v1/prometheus/sd — Prometheus `http_sd_configs`. Every instance of every service (or
 * of `?service=` ones), critical ones too with their status in a label, as consul_sd lists the
 * whole catalog; `?passing` keeps passing ones only, `?tag=` (all given) and `?scheme=` filter.
 */
export function prometheusSdRoutes(): HttpRoutes {
  return {
    name: 'prometheus-sd',
    register(server, ctx) {
      server.get<{ Querystring: QueryString }>('/v1/prometheus/sd', async (request) => {
        const query = request.query
        const names = list(query, 'service').map((name) => validateName(name, 'service'))
        const tags = list(query, 'tag')
        const passing =
          query.passing !== undefined && query.passing !== 'false' && query.passing !== '0'
        const filter = { includeCritical: true, ...(tags.length > 0 && { tags }) }
        const byName =
          names.length > 0
            ? names.map((name) => [name, ctx.agent.service(name, filter)] as const)
            : [...ctx.agent.services(filter)]
        const members = new Map(ctx.agent.members().map((member) => [member.id, member]))
        const nodeName = (peerId: string) => {
          const member = members.get(peerId)
          return member === undefined ? peerId : memberName(member)
        }
        const instances = byName
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .flatMap(([, list]) => [...list].sort((a, b) => (a.id < b.id ? -1 : 1)))
          .filter((instance) => !passing || instance.status === 'passing')
        return targetGroups(instances, nodeName, list(query, 'scheme'))
      })
    },
  }
}
