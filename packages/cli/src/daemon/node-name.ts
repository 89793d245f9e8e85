import type { Member } from '@grapevine/core'

/**
 * The name a member goes by in Consul answers (`Node`) and DNS (`NODE.node.grapevine.`): its
 * node name when the agent gives members one, else its peer id. Kept in one place so that
 * every front end names nodes alike.
 */
export function memberName(member: Member): string {
  const name = (member as Member & { readonly name?: unknown }).name
  return typeof name === 'string' && name !== '' ? name : member.id
}
