import { describe, expect, it } from 'vitest'
import type { ServiceEvent } from '../src/agent-api.js'
import { NotFoundError, ValidationError, WatcherClosedError } from '../src/errors.js'
import type { Registration } from '../src/instance.js'
import { PROFILES } from '../src/profiles.js'
import { createRegistryNode } from '../src/registry-node.js'
import type { RegistryNode } from '../src/registry-node-types.js'

const timings = PROFILES.lan

/** Nodes on one fake clock; `events(node)` records every view event of a node. */
function cluster() {
  const clock = { time: 1_000 }
  const now = () => clock.time
  let counter = 0
  const node = (nodeId: string, gen = 1) =>
    createRegistryNode({
      nodeId,
      gen,
      now,
      timings,
      tombstoneTtl: timings.tombstoneTtl,
      generateId: () => `${nodeId}-id-${++counter}`,
    })
  const record = (n: RegistryNode) => {
    const seen: string[] = []
    n.onEvent((e: ServiceEvent) =>
      seen.push(`${e.op}:${e.cause}:${e.instance.id}@${e.instance.node}`),
    )
    return seen
  }
  return { clock, node, record }
}

describe('registry node: own writes', () => {
  it('registers with a generated or given id, and re-registering updates in place', () => {
    const { node, record } = cluster()
    const a = node('A')
    const seen = record(a)
    const { id, delta } = a.register({ name: 'svc' })
    expect(id).toBe('A-id-1')
    expect(delta).toMatchObject({ origin: 'A', gen: 1, fromSeq: 1, toSeq: 1 })
    expect(delta.claims[0]).toMatchObject({ id, vv: { A: 1 }, instance: { id, node: 'A' } })
    expect(a.register({ id, name: 'svc', version: 'v2' }).id).toBe(id)
    expect(a.register({ id: 'mine', name: 'svc' }).id).toBe('mine')
    expect(a.getService('svc').map((i) => [i.id, i.version])).toEqual([
      ['A-id-1', 'v2'],
      ['mine', ''],
    ])
    expect(seen).toEqual([
      'add:registered:A-id-1@A',
      'update:registered:A-id-1@A',
      'add:registered:mine@A',
    ])
    expect(a.instanceCount).toBe(2)
  })

  it('rejects bad input with a ValidationError naming the field and changes nothing', () => {
    const { node, record } = cluster()
    const a = node('A')
    a.register({ id: 'keep', name: 'svc', tags: ['t'] })
    const seen = record(a)
    const before = {
      size: a.replica.size,
      digest: a.replica.digest(),
      view: a.services({ includeCritical: true }),
    }
    const bad: [unknown, string][] = [
      [{ name: 'bad name' }, 'name'],
      [{ id: 'keep', name: 'svc', tags: ['a b'] }, 'tags[0]'],
      [{ id: 'keep', name: 'svc', endpoints: ['nope'] }, 'endpoints[0]'],
      [{ id: 'keep', name: 'svc', status: 'sick' }, 'status'],
      [undefined, 'registration'],
    ]
    for (const [input, field] of bad) {
      expect(() => a.register(input as Registration)).toThrow(
        expect.objectContaining({ code: ValidationError.code, field }),
      )
    }
    expect(() => a.setStatus('keep', 'sick' as 'passing')).toThrow(
      expect.objectContaining({ field: 'status' }),
    )
    expect(seen).toEqual([])
    expect({
      size: a.replica.size,
      digest: a.replica.digest(),
      view: a.services({ includeCritical: true }),
    }).toEqual(before)
  })

  it('deregisters only its own live instances', () => {
    const { node, record } = cluster()
    const a = node('A')
    const b = node('B')
    const seen = record(a)
    const { id } = a.register({ name: 'svc' })
    a.applyDelta(b.register({ id: 'theirs', name: 'svc' }).delta)
    expect(() => a.deregister('unknown')).toThrow(NotFoundError)
    expect(() => a.deregister('theirs')).toThrow(
      expect.objectContaining({ code: 'ERR_NOT_FOUND', id: 'theirs' }),
    )
    const delta = a.deregister(id)
    expect(delta.claims[0]).toMatchObject({ id, instance: null, vv: { A: 2 } })
    expect(() => a.deregister(id)).toThrow(NotFoundError)
    expect(seen).toEqual([
      `add:registered:${id}@A`,
      'add:registered:theirs@B',
      `delete:deregistered:${id}@A`,
    ])
  })

  it('changes status with a health event, and not at all when unchanged', () => {
    const { node, record } = cluster()
    const a = node('A')
    const seen = record(a)
    const { id } = a.register({ name: 'svc', tags: ['x'] })
    expect(a.setStatus(id, 'passing')).toBeUndefined()
    expect(a.setStatus(id, 'critical')?.claims[0]?.instance).toMatchObject({
      status: 'critical',
      tags: ['x'],
    })
    expect(a.getService('svc')).toEqual([])
    expect(a.localInstances().map((i) => i.status)).toEqual(['critical'])
    expect(() => a.setStatus('nope', 'warning')).toThrow(NotFoundError)
    expect(seen).toEqual([`add:registered:${id}@A`, `update:health:${id}@A`])
  })

  it('deregisterAll tombstones every own instance in one delta', () => {
    const { node } = cluster()
    const a = node('A')
    expect(a.deregisterAll()).toBeUndefined()
    a.register({ name: 'one' })
    a.register({ name: 'two' })
    const delta = a.deregisterAll()
    expect(delta?.claims.map((c) => c.instance)).toEqual([null, null])
    expect(a.instanceCount).toBe(0)
    expect(a.localInstances()).toEqual([])
    expect(a.deregisterAll()).toBeUndefined()
  })

  it('restamp makes its claims count what it could not see before, so it never takes over', () => {
    const { node } = cluster()
    const a = node('A')
    const b = node('B')
    expect(a.restamp()).toBeUndefined()
    a.register({ id: 'x', name: 'svc' })
    a.applyDelta(b.register({ id: 'x', name: 'svc' }).delta) // concurrent; B wins the tie
    expect(a.getService('svc')[0]?.node).toBe('B')
    expect(a.conflicts()).toMatchObject([{ id: 'x', claimants: ['B', 'A'] }])
    // A restarted node's claim may carry a vector from before what it missed; restamped, it
    // is honest about having seen B's live claim, and a live owner is never taken over.
    const delta = a.restamp()
    expect(delta?.claims[0]?.vv).toEqual({ A: 2, B: 1 })
    expect(a.getService('svc')[0]?.node).toBe('B')
    expect(a.conflicts()).toMatchObject([{ id: 'x', claimants: ['B', 'A'] }])
    b.applyDelta(delta!)
    expect(b.getService('svc')[0]?.node).toBe('B')
    // Nothing competes any more: a second restamp rewrites nothing.
    a.register({ id: 'y', name: 'other' })
    expect(a.restamp()).toBeUndefined()
  })
})

describe('registry node: remote input', () => {
  it('applies deltas and parts from other origins', () => {
    const { node, record } = cluster()
    const a = node('A')
    const b = node('B')
    const seen = record(a)
    const d1 = b.register({ id: 'b1', name: 'svc' }).delta
    const d2 = b.register({ id: 'b2', name: 'svc' }).delta
    expect(a.applyDelta(d1)).toMatchObject({ applied: 1, gap: false })
    expect(a.applyDelta(d1)).toMatchObject({ applied: 0, dropped: 1 })
    const parts = b.replica.partsFor(a.replica.digest(), 64 * 1024)
    for (const part of parts) a.applyPart(part)
    expect(a.getService('svc').map((i) => i.id)).toEqual(['b1', 'b2'])
    expect(seen).toEqual(['add:registered:b1@B', 'add:registered:b2@B'])
    expect(a.applyDelta(d2).applied).toBe(0)
  })

  it('drops anything for its own origin: echoes and a previous generation', () => {
    const { node } = cluster()
    const old = node('A', 1)
    const stale = old.register({ id: 'ghost', name: 'svc' }).delta
    const a = node('A', 2)
    const echo = a.register({ id: 'real', name: 'svc' }).delta
    expect(a.applyDelta(stale)).toMatchObject({ applied: 0, dropped: 1 })
    expect(a.applyDelta(echo)).toMatchObject({ applied: 0, dropped: 1 })
    for (const part of old.replica.partsFor({}, 64 * 1024)) {
      expect(a.applyPart(part).applied).toBe(0)
    }
    expect(a.getService('svc').map((i) => i.id)).toEqual(['real'])
    expect(a.replica.origin('A')?.gen).toBe(2)
  })

  it('expires a restarted origin’s instances that its new generation does not announce', () => {
    const { node, record } = cluster()
    const a = node('A')
    const seen = record(a)
    a.applyDelta(node('B', 1).register({ id: 'b1', name: 'svc' }).delta)
    a.applyDelta(node('B', 2).register({ id: 'b2', name: 'svc' }).delta)
    expect(seen).toEqual(['add:registered:b1@B', 'delete:expired:b1@B', 'add:registered:b2@B'])
  })

  it('keeps a live owner’s instance against a dominating takeover, reported as a conflict everywhere (finding 3)', () => {
    const { node } = cluster()
    const [a, b, c] = [node('A'), node('B'), node('C')]
    const owned = a.register({ id: 'pay-1', name: 'pay', endpoints: ['http://10.0.0.1:80'] })
    b.applyDelta(owned.delta)
    c.applyDelta(owned.delta)
    const seen: string[] = []
    for (const n of [a, b, c])
      n.onConflict((conflict) => seen.push(`${conflict.id}:${conflict.claimants}`))
    // B has seen A's claim and writes over it: its vector dominates, and it renames and
    // marks it critical, which used to take it over or hide it.
    const takeover = b.register({
      id: 'pay-1',
      name: 'other',
      endpoints: ['http://6.6.6.6:80'],
      status: 'critical',
    }).delta
    expect(takeover.claims[0]!.vv).toEqual({ [a.nodeId]: 1, [b.nodeId]: 1 })
    a.applyDelta(takeover)
    c.applyDelta(takeover)
    for (const n of [a, b, c]) {
      expect(n.getService('pay')).toMatchObject([{ node: 'A', endpoints: ['http://10.0.0.1:80'] }])
      expect(n.getService('other')).toEqual([])
      expect(n.conflicts()).toMatchObject([{ id: 'pay-1', claimants: ['A', 'B'] }])
      expect(n.conflictsSeen).toBe(1)
    }
    expect(seen).toEqual(['pay-1:A,B', 'pay-1:A,B', 'pay-1:A,B'])
    // The move happens once A lets go.
    const gone = a.deregister('pay-1')
    b.applyDelta(gone)
    c.applyDelta(gone)
    for (const n of [a, b, c]) {
      expect(n.service('other', { includeCritical: true })).toMatchObject([{ node: 'B' }])
      expect(n.conflicts()).toEqual([])
    }
  })

  it('reports concurrent claims as conflicts; every replica picks the same winner', () => {
    const { node } = cluster()
    const [a, b, c] = [node('A'), node('B'), node('C')]
    const db = b.register({ id: 'x', name: 'svc', version: 'b' }).delta
    const dc = c.register({ id: 'x', name: 'svc', version: 'c' }).delta
    a.applyDelta(db)
    a.applyDelta(dc)
    b.applyDelta(dc)
    c.applyDelta(db)
    for (const n of [a, b, c]) {
      expect(n.getService('svc').map((i) => i.version)).toEqual(['c'])
      expect(n.conflicts()).toMatchObject([{ id: 'x', claimants: ['C', 'B'] }])
    }
  })
})

describe('registry node: membership facts', () => {
  function setup() {
    const c = cluster()
    const a = c.node('A')
    const b = c.node('B')
    a.applyDelta(b.register({ id: 'b1', name: 'svc' }).delta)
    a.memberFact('B', 'alive', 1)
    const seen = c.record(a)
    return { ...c, a, b, seen }
  }

  it('hides a dead origin’s instances (expired) and shows them again when it is alive', () => {
    const { a, seen } = setup()
    a.memberFact('B', 'suspect', 1)
    expect(a.getService('svc')).toHaveLength(1)
    a.memberFact('B', 'dead', 1)
    expect(a.getService('svc')).toEqual([])
    a.memberFact('B', 'alive', 1)
    expect(a.awaitsOrigin('B')).toBe(true)
    a.originAdvert('B', 1, 1)
    expect(a.getService('svc')).toHaveLength(1)
    expect(seen).toEqual(['delete:expired:b1@B', 'add:registered:b1@B'])
  })

  it('hides instances of an origin that left (left), and ignores facts of older generations', () => {
    const { a, seen } = setup()
    a.memberFact('B', 'left', 1)
    expect(a.getService('svc')).toEqual([])
    a.memberFact('B', 'alive', 0)
    expect(a.getService('svc')).toEqual([])
    expect(seen).toEqual(['delete:left:b1@B'])
  })

  // Finding 9: after a kill -9 and restart, the new generation's first ALIVE showed the old
  // generation's claims again (added, then deleted as expired, then added back).
  it('a new generation never revives the claims of an older one it replaces', () => {
    const { a, clock, seen } = setup()
    a.memberFact('B', 'dead', 1)
    expect(seen).toEqual(['delete:expired:b1@B'])
    a.memberFact('B', 'alive', 2)
    expect(a.getService('svc')).toEqual([])
    expect(a.replica.origin('B')?.gen).toBe(2)
    // What the new generation announces is what shows, once.
    a.applyDelta(
      createRegistryNode({ nodeId: 'B', gen: 2, now: () => clock.time, timings }).register({
        id: 'b1',
        name: 'svc',
      }).delta,
    )
    expect(a.getService('svc').map((i) => i.id)).toEqual(['b1'])
    expect(seen).toEqual(['delete:expired:b1@B', 'add:registered:b1@B'])
  })

  it('older-generation claims synced back after a newer generation spoke stay hidden', () => {
    const { a, b, seen } = setup()
    const stale = b.replica.partsFor({}, 1 << 20)
    a.memberFact('B', 'dead', 1)
    a.memberFact('B', 'alive', 2)
    for (const part of stale) a.applyPart(part)
    a.memberFact('B', 'left', 2)
    a.memberFact('B', 'alive', 3)
    for (const part of stale) a.applyPart(part)
    expect(a.getService('svc')).toEqual([])
    expect(seen).toEqual(['delete:expired:b1@B'])
  })

  // Found by the chaos soak: a node SIGSTOPped right after a deregistration (its DELTA not yet
  // sent) came back with the same generation, and peers showed the deregistered instance again
  // until the DELTA arrived.
  it('an origin back from dead that holds nothing new shows its claims at once', () => {
    const { a, b, seen } = setup()
    a.memberFact('B', 'dead', 1)
    a.memberFact('B', 'alive', 1, b.replica.origin('B')?.covered)
    expect(a.holds('B')).toBe(false)
    expect(a.getService('svc').map((i) => i.id)).toEqual(['b1'])
    expect(seen).toEqual(['delete:expired:b1@B', 'add:registered:b1@B'])
  })

  it('an origin back from dead shows its claims only once caught up with what it advertises', () => {
    const { a, b, seen } = setup()
    a.applyDelta(b.register({ id: 'b2', name: 'svc' }).delta)
    a.memberFact('B', 'dead', 1)
    const missed = b.deregister('b1') // never reached A before B stopped
    a.memberFact('B', 'alive', 1, missed.toSeq)
    expect(a.getService('svc')).toEqual([])
    // It said what it holds: no need to ask it, only to fetch what is missing.
    expect(a.awaitsOrigin('B')).toBe(false)
    expect(a.holds('B')).toBe(true)
    a.memberFact('B', 'alive', 1, missed.toSeq)
    expect(a.getService('svc')).toEqual([])
    a.applyDelta(missed)
    expect(a.holds('B')).toBe(false)
    expect(a.getService('svc').map((i) => i.id)).toEqual(['b2'])
    expect(seen.filter((e) => e.startsWith('add') && e.includes('b1'))).toEqual([])
  })

  // Found by the chaos soak after SWIM landed: a node starved right after a deregistration was
  // declared dead and refuted; its ALIVE carries no coverage, so peers showed the deregistered
  // instance again until the DELTA arrived (watchers saw it added back).
  it('an origin back from dead stays hidden until its own word on what it holds is covered', () => {
    const { a, b, seen } = setup()
    a.applyDelta(b.register({ id: 'b2', name: 'svc' }).delta)
    a.memberFact('B', 'dead', 1)
    const missed = b.deregister('b1') // never reached A before B was declared dead
    a.memberFact('B', 'alive', 1)
    expect(a.getService('svc')).toEqual([])
    expect(a.awaitsOrigin('B')).toBe(true)
    a.originAdvert('B', 0, missed.toSeq) // another generation's word says nothing
    expect(a.awaitsOrigin('B')).toBe(true)
    a.originAdvert('B', 1, missed.toSeq)
    expect(a.awaitsOrigin('B')).toBe(false)
    expect(a.getService('svc')).toEqual([])
    a.applyDelta(missed)
    expect(a.getService('svc').map((i) => i.id)).toEqual(['b2'])
    expect(seen.filter((e) => e.startsWith('add') && e.includes('b1'))).toEqual([])
    // Dead again and back: it must say again.
    a.memberFact('B', 'dead', 1)
    a.memberFact('B', 'alive', 1)
    expect(a.getService('svc')).toEqual([])
    a.originAdvert('B', 1, missed.toSeq)
    expect(a.getService('svc').map((i) => i.id)).toEqual(['b2'])
  })

  it('a restarted origin (a new generation) is not held back: its old claims are dropped', () => {
    const { a } = setup()
    a.memberFact('B', 'dead', 1)
    a.memberFact('B', 'alive', 2)
    expect(a.awaitsOrigin('B')).toBe(false)
    expect(a.getService('svc')).toEqual([])
  })

  it('a LEFT of a newer generation drops the older generation too', () => {
    const { a, seen } = setup()
    a.memberFact('B', 'left', 2)
    a.memberFact('B', 'alive', 3)
    expect(a.getService('svc')).toEqual([])
    expect(seen).toEqual(['delete:left:b1@B'])
  })

  it('purges a dead origin for good purgeAfter after it died', () => {
    const { a, clock, seen } = setup()
    a.memberFact('B', 'dead', 1)
    clock.time += timings.purgeAfter + 1
    a.tick()
    expect(a.replica.origin('B')).toBeUndefined()
    expect(a.replica.size).toBe(0)
    expect(a.liveness.state('B')).toBeUndefined()
    expect(seen).toEqual(['delete:expired:b1@B'])
  })

  it('drops a purged origin’s claims that a peer syncs back, until it is alive again', () => {
    const { a, b, clock } = setup()
    const stale = b.replica.partsFor({}, 1 << 20)
    a.memberFact('B', 'dead', 1)
    clock.time += timings.purgeAfter + 1
    a.tick()
    a.tick()
    expect(a.replica.origin('B')).toBeUndefined()
    for (const part of stale) a.applyPart(part)
    expect(a.replica.size).toBe(0)
    expect(a.getService('svc')).toEqual([])
    a.memberFact('B', 'alive', 1)
    for (const part of stale) a.applyPart(part)
    expect(a.getService('svc').map((i) => i.id)).toEqual(['b1'])
  })

  it('expires relayed claims of an origin membership never confirmed', () => {
    const c = cluster()
    const a = c.node('A')
    const b = c.node('B')
    b.register({ id: 'ghost', name: 'svc' })
    for (const part of b.replica.partsFor({}, 1 << 20)) a.applyPart(part)
    expect(a.liveness.state('B')).toBe('suspect')
    expect(a.getService('svc').map((i) => i.id)).toEqual(['ghost'])
    c.clock.time += timings.deadAfter + 1
    a.tick()
    expect(a.getService('svc')).toEqual([])
  })

  it('keeps relayed claims visible once membership confirms the origin alive', () => {
    const c = cluster()
    const a = c.node('A')
    const b = c.node('B')
    b.register({ id: 'late', name: 'svc' })
    for (const part of b.replica.partsFor({}, 1 << 20)) a.applyPart(part)
    a.memberFact('B', 'alive', 1)
    c.clock.time += timings.deadAfter + 1
    a.tick()
    expect(a.getService('svc').map((i) => i.id)).toEqual(['late'])
  })

  it('never judges itself: its own claims stay visible', () => {
    const { a, clock } = setup()
    a.register({ id: 'own', name: 'mine' })
    a.memberFact('A', 'dead', 1)
    a.memberFact('A', 'left', 1)
    clock.time += timings.purgeAfter * 2
    a.tick()
    expect(a.getService('mine').map((i) => i.id)).toEqual(['own'])
    expect(a.liveness.state('A')).toBeUndefined()
  })

  it('collects tombstones on tick once their TTL ran out', () => {
    const { a, clock } = setup()
    const { id } = a.register({ name: 'mine' })
    a.deregister(id)
    expect(a.replica.size).toBe(2)
    clock.time += timings.tombstoneTtl + 1
    a.tick()
    expect(a.replica.size).toBe(1)
  })
})

describe('registry node: queries and watches', () => {
  it('answers queries and lists its own instances', () => {
    const { node } = cluster()
    const a = node('A')
    a.register({ id: 'a1', name: 'svc', tags: ['edge'], version: 'v1' })
    a.register({ id: 'a2', name: 'svc', status: 'critical', tags: ['edge'] })
    a.applyDelta(node('B').register({ id: 'b1', name: 'svc', metadata: { zone: 'z' } }).delta)
    expect(a.getService('svc').map((i) => i.id)).toEqual(['a1', 'b1'])
    expect(a.service('svc', { tags: ['edge'], includeCritical: true }).map((i) => i.id)).toEqual([
      'a1',
      'a2',
    ])
    expect(a.service('svc', { metadata: { zone: 'z' } }).map((i) => i.id)).toEqual(['b1'])
    expect(a.service('svc', { version: 'v1' }).map((i) => i.id)).toEqual(['a1'])
    expect([...a.services({ tags: ['edge'] }).keys()]).toEqual(['svc'])
    expect(a.localInstances().map((i) => i.id)).toEqual(['a1', 'a2'])
  })

  it('feeds watchers and streams from remote changes, and close() stops them', async () => {
    const { node } = cluster()
    const a = node('A')
    const b = node('B')
    const watcher = a.watch('svc')
    const stream = a.events('svc')
    const first = watcher.next()
    a.applyDelta(b.register({ id: 'b1', name: 'svc' }).delta)
    expect((await first).map((i) => i.id)).toEqual(['b1'])
    expect((await stream.next()).value).toMatchObject({ op: 'add', cause: 'registered' })
    const pending = watcher.next()
    a.close()
    await expect(pending).rejects.toBeInstanceOf(WatcherClosedError)
    expect((await stream.next()).done).toBe(true)
  })

  it('validates watched names', () => {
    const { node } = cluster()
    const a = node('A')
    expect(() => a.watch('bad name')).toThrow(expect.objectContaining({ field: 'name' }))
    expect(() => a.events('')).toThrow(ValidationError)
  })
})
