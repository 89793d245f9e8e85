import { describe, expect, it } from 'vitest'
import { QuotaExceededError } from '../src/errors.js'
import { PROFILES } from '../src/profiles.js'
import { createRegistryNode } from '../src/registry-node.js'
import { createReplica } from '../src/replica.js'
import {
  claimSet,
  deltaOf,
  fullPart,
  incrementalPart,
  live,
  manualClock,
} from './replica-fixtures.js'

/**
 * What a replica and a registry node accept from relays and floods: the core half of issue 9
 * (the network half, signatures and seals, is in packages/gossip). Each test failed before.
 */
describe('relayed sync parts (finding 1)', () => {
  it('a relay that leaves an honest owner’s claim out of its range does not delete it', () => {
    const replica = createReplica({ now: () => 0, tombstoneTtl: 1_000 })
    // Out of order: A's writes 3..4 arrived first, 1..2 are still missing here.
    replica.applyDelta(deltaOf([live('A', 'x', 3), live('A', 'y', 4)]))
    // A relay sends A's range 0..4 carrying only 1..2 and y: x is "gone" by omission.
    const part = fullPart('A', 4, [live('A', 'a', 1), live('A', 'b', 2), live('A', 'y', 4)])
    replica.applyPart(part, { relayed: true })
    expect(claimSet(replica)).toContain('A/1:x@3')
    // Only the range up to just before the unproven claim counts as exact (2); coverage then
    // joins the DELTA's own range 3..4.
    expect(replica.origin('A')).toMatchObject({ covered: 4 })
    // From the origin itself, the same part is exact: x was replaced or collected there.
    replica.applyPart(part)
    expect(claimSet(replica)).not.toContain('A/1:x@3')
    expect(replica.origin('A')).toMatchObject({ covered: 4 })
  })

  it('a relayed part whose range holds a newer claim of the same id is applied whole', () => {
    const replica = createReplica({ now: () => 0, tombstoneTtl: 1_000 })
    replica.applyDelta(deltaOf([live('A', 'x', 3)]))
    replica.applyPart(incrementalPart('A', 0, 5, [live('A', 'a', 1), live('A', 'x', 5)]), {
      relayed: true,
    })
    expect(claimSet(replica)).toEqual(['A/1:a@1', 'A/1:x@5'])
    expect(replica.origin('A')).toMatchObject({ covered: 5 })
  })
})

describe('origins and replies (finding 2)', () => {
  const timings = PROFILES.lan

  it('refuses new origins past maxOrigins and counts them', () => {
    // This node's own origin counts too: room for three others.
    const node = createRegistryNode({ nodeId: 'me', gen: 1, now: () => 0, timings, maxOrigins: 4 })
    for (let i = 0; i < 3; i++) {
      expect(node.applyPart(fullPart(`o${i}`, 1, [live(`o${i}`, `x${i}`, 1)])).applied).toBe(1)
    }
    const refused = node.applyPart(fullPart('o3', 1, [live('o3', 'x3', 1)]))
    expect(refused).toMatchObject({ applied: 0, overQuota: 1 })
    expect(node.replica.originCount).toBe(4)
    // Known origins still get through.
    expect(node.applyPart(incrementalPart('o1', 1, 2, [live('o1', 'y', 2)])).applied).toBe(1)
  })

  it('never admits an origin from a relay: fake origins leave no member and no digest entry', () => {
    const node = createRegistryNode({ nodeId: 'me', gen: 1, now: () => 0, timings })
    for (let i = 0; i < 1_000; i++) {
      const result = node.applyPart(fullPart(`fake${i}`, 1, [live(`fake${i}`, `x${i}`, 1)]), {
        relayed: true,
      })
      expect(result).toMatchObject({ applied: 0, unadmitted: true })
    }
    expect(node.replica.originCount).toBe(1)
    expect(node.liveness.state('fake0')).toBeUndefined()
    // Once the origin speaks for itself (its own DELTA), relays may bring the rest.
    node.applyDelta(deltaOf([live('fake0', 'x0', 1)]))
    const relayed = incrementalPart('fake0', 1, 2, [live('fake0', 'y', 2)])
    expect(node.applyPart(relayed, { relayed: true }).applied).toBe(1)
  })

  it('prunes what it purged once purgeAfter has passed again', () => {
    const clock = manualClock(1_000)
    const node = createRegistryNode({ nodeId: 'me', gen: 1, now: clock.now, timings })
    node.applyDelta(deltaOf([live('B', 'b1', 1)]))
    node.memberFact('B', 'alive', 1)
    node.memberFact('B', 'dead', 1)
    clock.advance(timings.purgeAfter + 1)
    node.tick()
    node.tick()
    // Purged: the purged generation's claims are refused when a peer syncs them back.
    expect(node.applyPart(fullPart('B', 1, [live('B', 'b1', 1)])).applied).toBe(0)
    clock.advance(timings.purgeAfter + 1)
    node.tick()
    // The record is gone: the claims start over as an origin never heard from.
    expect(node.applyPart(fullPart('B', 1, [live('B', 'b1', 1)])).applied).toBe(1)
  })

  it('never puts more parts in one reply than the decoder accepts', () => {
    const replica = createReplica({ now: () => 0, tombstoneTtl: 1_000 })
    for (let i = 0; i < 50; i++) replica.applyDelta(deltaOf([live(`o${i}`, `x${i}`, 1)]))
    expect(replica.partsFor({}, 1 << 30, 16)).toHaveLength(16)
    expect(replica.partsFor({}, 1 << 30)).toHaveLength(50)
  })
})

describe('per-origin quotas (finding 5)', () => {
  it('stores at most quota.claims claims of one origin; the rest is counted, not stored', () => {
    const replica = createReplica({ now: () => 0, tombstoneTtl: 1_000, quota: { claims: 10 } })
    const claims = Array.from({ length: 25 }, (_, i) => live('A', `x${i}`, i + 1))
    const result = replica.applyDelta(deltaOf(claims))
    expect(result).toMatchObject({ applied: 10, overQuota: 15 })
    expect(replica.claimCount('A')).toBe(10)
    // Updates of stored ids still apply.
    expect(replica.applyDelta(deltaOf([live('A', 'x0', 26)])).applied).toBe(1)
  })

  it('stores at most quota.bytes of one origin', () => {
    const replica = createReplica({ now: () => 0, tombstoneTtl: 1_000, quota: { bytes: 2_000 } })
    const claims = Array.from({ length: 50 }, (_, i) => live('A', `x${i}`, i + 1))
    const result = replica.applyDelta(deltaOf(claims))
    expect(result.overQuota).toBeGreaterThan(0)
    expect(result.applied).toBeLessThan(50)
  })

  it('refuses this node’s own registrations past its quota with a typed error', () => {
    const node = createRegistryNode({
      nodeId: 'me',
      gen: 1,
      now: () => 0,
      timings: PROFILES.lan,
      quota: { claims: 2 },
    })
    node.register({ id: 'a', name: 'svc' })
    node.register({ id: 'b', name: 'svc' })
    node.register({ id: 'a', name: 'svc', version: 'v2' })
    expect(() => node.register({ id: 'c', name: 'svc' })).toThrow(QuotaExceededError)
    expect(node.localInstances()).toHaveLength(2)
  })
})
