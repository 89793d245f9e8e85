import type { Member, ServiceInstance } from '@grapevine/core'
import type { DaemonContext } from '../daemon/front-end.js'
import { memberName } from '../daemon/node-name.js'

/** What DNS answers are made of, read from the agent at each question. */
export interface DnsView {
  /**
   * The healthy instances of a service carrying `tag` (when given), names and tags matched
   * case-insensitively as DNS names are; empty when there are none.
   */
  service(name: string, tag: string | undefined): readonly ServiceInstance[]
  /** The member a `NODE.node.` name stands for (node name or peer id, any case). */
  node(name: string): Member | undefined
}

/**
 * The agent's replica seen through DNS eyes. The exact name is tried first (`getService` is
 * O(1)); a name in another case goes through an index of lower-cased names, rebuilt lazily
 * after the feed shows a service it does not hold, so a 0x20-randomizing resolver
 * (`wEb.SeRvIcE.grapevine.`) still finds `web`.
 */
export function createDnsView(ctx: Pick<DaemonContext, 'agent' | 'feed'>): DnsView & {
  close(): void
} {
  const { agent } = ctx
  let byLowerName: Map<string, string[]> | undefined
  const unsubscribe = ctx.feed.subscribe(undefined, (event) => {
    if (event.op === 'add' && byLowerName !== undefined) {
      const known = byLowerName.get(event.instance.name.toLowerCase())
      if (known === undefined || !known.includes(event.instance.name)) byLowerName = undefined
    }
  })

  const namesLike = (name: string): readonly string[] => {
    if (byLowerName === undefined) {
      byLowerName = new Map()
      for (const known of agent.services({ includeCritical: true }).keys()) {
        const key = known.toLowerCase()
        const list = byLowerName.get(key)
        if (list === undefined) byLowerName.set(key, [known])
        else list.push(known)
      }
    }
    return byLowerName.get(name.toLowerCase()) ?? []
  }

  const healthy = (name: string): readonly ServiceInstance[] => {
    const exact = agent.getService(name)
    if (exact.length > 0) return exact
    const others = namesLike(name).filter((known) => known !== name)
    if (others.length === 0) return exact
    return others.flatMap((known) => agent.getService(known))
  }

  return {
    service(name, tag) {
      const instances = healthy(name)
      if (tag === undefined) return instances
      const wanted = tag.toLowerCase()
      return instances.filter((instance) =>
        instance.tags.some((candidate) => candidate.toLowerCase() === wanted),
      )
    },
    node(name) {
      const wanted = name.toLowerCase()
      return agent
        .members()
        .find(
          (member) =>
            (member.state === 'alive' || member.state === 'suspect') &&
            (memberName(member).toLowerCase() === wanted || member.id.toLowerCase() === wanted),
        )
    },
    close: unsubscribe,
  }
}
