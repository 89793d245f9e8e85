import type { ServiceEvent } from './agent-api.js'
import { instancesEqual, type ServiceInstance } from './instance.js'
import { changeCause } from './view.js'

/**
 * The events that turn snapshot `before` into snapshot `after`, matched by instance id:
 * deletes first (in `before` order), then adds and updates (in `after` order). For clients
 * that poll lists (HTTP API, DNS) and want events. Causes are what a snapshot can tell:
 * add → `registered`, delete → `deregistered`, update → `superseded` when the node changed,
 * `health` when only the status or check states changed, else `registered`.
 */
export function diff(
  before: readonly ServiceInstance[],
  after: readonly ServiceInstance[],
): ServiceEvent[] {
  const previous = new Map<string, ServiceInstance>()
  for (const instance of before) previous.set(instance.id, instance)
  const next = new Map<string, ServiceInstance>()
  for (const instance of after) next.set(instance.id, instance)

  const events: ServiceEvent[] = []
  for (const [id, instance] of previous) {
    if (!next.has(id)) events.push({ op: 'delete', instance, cause: 'deregistered' })
  }
  for (const [id, instance] of next) {
    const old = previous.get(id)
    if (old === undefined) {
      events.push({ op: 'add', instance, cause: 'registered' })
    } else if (!instancesEqual(old, instance)) {
      events.push({ op: 'update', instance, cause: changeCause(old, instance) })
    }
  }
  return events
}
