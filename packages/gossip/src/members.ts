import type { Member } from '@grapevine/core'
import type { MemberInfo } from './membership.js'

export interface MemberListInput {
  readonly self: {
    readonly id: string
    readonly gen: number
    readonly addresses: string[]
    readonly name: string
  }
  readonly members: readonly MemberInfo[]
  /** Monotonic ms, the clock of `MemberInfo.since`. */
  readonly now: number
  /** Where a member can be reached when it announced nothing: our connections to it. */
  addressesOf(id: string): readonly string[]
}

/** `members()`: this node first, then every member membership knows. */
export function listMembers(input: MemberListInput): Member[] {
  const { self, now } = input
  const members: Member[] = [
    {
      id: self.id,
      name: self.name,
      addresses: self.addresses,
      state: 'alive',
      gen: self.gen,
      lastHeardMsAgo: 0,
      self: true,
    },
  ]
  for (const member of input.members) {
    if (member.id === self.id) continue
    members.push({
      id: member.id,
      name: member.name,
      addresses: member.addrs.length > 0 ? member.addrs : input.addressesOf(member.id),
      state: member.state,
      gen: member.gen,
      // Membership does not time silence: this is how long the member has been in its state.
      lastHeardMsAgo: Math.max(0, Math.round(now - member.since)),
      self: false,
    })
  }
  return members
}
