import type { Liveness, Member } from '@grapevine/core'

export interface MemberListInput {
  readonly self: {
    readonly id: string
    readonly gen: number
    readonly addresses: string[]
    /** This node's name (`nodeName`); other members' names come with SWIM's ALIVE. */
    readonly name?: string
  }
  readonly liveness: Liveness
  /** The registry's monotonic clock. */
  readonly now: number
  /** Where a member can be reached: what it announced, else our connections to it. */
  addressesOf(id: string): readonly string[]
}

/** `members()`: this node first, then every origin its liveness has a record of. */
export function listMembers(input: MemberListInput): Member[] {
  const { self, liveness, now } = input
  const members: Member[] = [
    {
      id: self.id,
      ...(self.name !== undefined && { name: self.name }),
      addresses: self.addresses,
      state: 'alive',
      gen: self.gen,
      lastHeardMsAgo: 0,
      self: true,
    },
  ]
  for (const origin of liveness.origins()) {
    if (origin === self.id) continue
    const lastHeard = liveness.lastHeard(origin)
    members.push({
      id: origin,
      addresses: input.addressesOf(origin),
      state: liveness.state(origin) ?? 'dead',
      gen: liveness.gen(origin) ?? 0,
      lastHeardMsAgo: lastHeard === undefined ? null : Math.max(0, Math.round(now - lastHeard)),
      self: false,
    })
  }
  return members
}
