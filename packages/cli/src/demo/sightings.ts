import type { EventCause, ServiceQuery } from '@grapevine/core'
import type { AgentClient } from '../client/agent-client.js'

/** What one node's watch stream showed about one instance, in `performance.now()` time. */
export interface Sighting {
  seenAt?: number
  goneAt?: number
  goneCause?: EventCause
}

export type SightingListener = (
  node: string,
  instanceId: string,
  change: 'seen' | 'gone',
  cause?: EventCause,
) => void

/**
 * Follows every node's SSE watch of the demo's services and records when each node first saw
 * each instance and when it lost it. The times are when the event reached the demo process,
 * which adds the same small local delay to every measurement.
 */
export interface Sightings {
  /** Resolves once every stream has delivered its first snapshot. */
  readonly opened: Promise<void>
  get(node: string, instanceId: string): Sighting | undefined
  /** Stops following one node (it is about to be killed). */
  forget(node: string): void
  stop(): void
}

const ALL: ServiceQuery = { includeCritical: true }

export function followSightings(
  nodes: ReadonlyArray<{ name: string; client: AgentClient }>,
  services: readonly string[],
  listener: SightingListener,
): Sightings {
  const table = new Map<string, Sighting>()
  const controllers = new Map<string, AbortController>()
  const key = (node: string, id: string) => `${node}\u0000${id}`
  let waiting = nodes.length * services.length
  let markOpened!: () => void
  const opened = new Promise<void>((resolve) => {
    markOpened = resolve
  })
  const streamOpened = () => {
    waiting -= 1
    if (waiting === 0) markOpened()
  }
  if (waiting === 0) markOpened()

  for (const { name, client } of nodes) {
    const controller = new AbortController()
    controllers.set(name, controller)
    for (const service of services) {
      void (async () => {
        const present = new Set<string>()
        let first = true
        try {
          for await (const message of client.watch(service, ALL, controller.signal)) {
            const now = performance.now()
            const ids = new Set(message.instances.map((i) => i.id))
            for (const id of ids) {
              if (present.has(id)) continue
              present.add(id)
              const sighting = table.get(key(name, id)) ?? {}
              if (sighting.seenAt === undefined) {
                sighting.seenAt = now
                table.set(key(name, id), sighting)
                listener(name, id, 'seen')
              }
            }
            for (const id of [...present]) {
              if (ids.has(id)) continue
              present.delete(id)
              const sighting = table.get(key(name, id)) ?? {}
              sighting.goneAt = now
              if (message.type === 'change' && message.event.instance.id === id) {
                sighting.goneCause = message.event.cause
              }
              table.set(key(name, id), sighting)
              listener(name, id, 'gone', sighting.goneCause)
            }
            if (first) streamOpened()
            first = false
          }
        } catch {
          // The node was killed or the demo is ending; its sightings so far stand.
        }
      })()
    }
  }

  return {
    opened,
    get: (node, id) => table.get(key(node, id)),
    forget(node) {
      controllers.get(node)?.abort()
    },
    stop() {
      for (const controller of controllers.values()) controller.abort()
    },
  }
}
