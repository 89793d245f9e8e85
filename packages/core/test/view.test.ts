import { describe, expect, it } from 'vitest'
import type { MemberState } from '../src/agent-api.js'
import type { Claim } from '../src/claim.js'
import { createView } from '../src/view.js'
import { claim, instance, liveClaim } from './view-fixtures.js'

/** A view over a hand-held claim store and origin states. */
function harness() {
  const view = createView()
  const claims = new Map<string, Claim[]>()
  const states = new Map<string, MemberState>()
  /** Replaces `origin`'s claim on the id (as the replica would), then refreshes it. */
  function put(c: Claim) {
    const others = (claims.get(c.id) ?? []).filter((x) => x.origin !== c.origin)
    claims.set(c.id, [...others, c])
    return view.refresh([c.id], claimsFor, stateOf)
  }
  function drop(origin: string, id: string) {
    claims.set(
      id,
      (claims.get(id) ?? []).filter((x) => x.origin !== origin),
    )
    return view.refresh([id], claimsFor, stateOf)
  }
  function setState(origin: string, state: MemberState) {
    states.set(origin, state)
    return view.refresh(claims.keys(), claimsFor, stateOf)
  }
  const claimsFor = (id: string) => claims.get(id) ?? []
  const stateOf = (origin: string) => states.get(origin)
  return { view, put, drop, setState }
}

describe('view', () => {
  it('adds an instance with cause registered and indexes it', () => {
    const h = harness()
    const c = liveClaim('A', 'x', 'svc', { A: 1 }, { tags: ['edge'] })
    expect(h.put(c)).toEqual([{ op: 'add', instance: c.instance, cause: 'registered' }])
    expect(h.view.get('x')).toBe(c.instance) // referenced, not copied
    expect(h.view.healthy('svc')).toEqual([c.instance])
    expect([...h.view.names()]).toEqual(['svc'])
    expect([...(h.view.idsWithTag('edge') ?? [])]).toEqual(['x'])
    expect(h.view.size).toBe(1)
  })

  it('serves a cached frozen array per name until the name changes', () => {
    const h = harness()
    h.put(liveClaim('A', 'b', 'svc', { A: 1 }))
    h.put(liveClaim('A', 'a', 'svc', { A: 2 }))
    const first = h.view.healthy('svc')
    expect(Object.isFrozen(first)).toBe(true)
    expect(first.map((i) => i.id)).toEqual(['a', 'b']) // sorted by id on every replica
    expect(h.view.healthy('svc')).toBe(first)
    h.put(liveClaim('A', 'c', 'other', { A: 3 }))
    expect(h.view.healthy('svc')).toBe(first)
    h.put(liveClaim('A', 'c2', 'svc', { A: 4 }))
    expect(h.view.healthy('svc')).not.toBe(first)
    expect(h.view.healthy('missing')).toEqual([])
  })

  it('keeps critical instances out of healthy() but in all()', () => {
    const h = harness()
    h.put(liveClaim('A', 'x', 'svc', { A: 1 }, { status: 'critical' }))
    h.put(liveClaim('A', 'y', 'svc', { A: 2 }, { status: 'warning' }))
    expect(h.view.healthy('svc').map((i) => i.id)).toEqual(['y'])
    expect(h.view.all('svc').map((i) => i.id)).toEqual(['x', 'y'])
  })

  describe('delete causes', () => {
    it('deregistered when the owner wrote a tombstone', () => {
      const h = harness()
      const c = liveClaim('A', 'x', 'svc', { A: 1 }, { tags: ['t'] })
      h.put(c)
      expect(h.put(claim('A', 'x', { A: 2 }, null, 2))).toEqual([
        { op: 'delete', instance: c.instance, cause: 'deregistered' },
      ])
      expect(h.view.size).toBe(0)
      expect([...h.view.names()]).toEqual([])
      expect(h.view.idsWithTag('t')).toBeUndefined()
    })

    it('left when the owner left', () => {
      const h = harness()
      h.put(liveClaim('A', 'x', 'svc', { A: 1 }))
      expect(h.setState('A', 'left').map((e) => [e.op, e.cause])).toEqual([['delete', 'left']])
    })

    it('left even when the tombstones arrived before LEAVE was applied', () => {
      const h = harness()
      h.put(liveClaim('A', 'x', 'svc', { A: 1 }))
      h.setState('A', 'left')
      expect(h.put(claim('A', 'x', { A: 2 }, null, 2))).toEqual([])
    })

    it('expired when the owner is dead, and back when it speaks again', () => {
      const h = harness()
      const c = liveClaim('A', 'x', 'svc', { A: 1 })
      h.put(c)
      h.setState('A', 'suspect')
      expect(h.view.size).toBe(1)
      expect(h.setState('A', 'dead')).toEqual([
        { op: 'delete', instance: c.instance, cause: 'expired' },
      ])
      expect(h.setState('A', 'alive')).toEqual([
        { op: 'add', instance: c.instance, cause: 'registered' },
      ])
    })

    it('expired when the owner’s claim vanished (restart or purge)', () => {
      const h = harness()
      h.put(liveClaim('A', 'x', 'svc', { A: 1 }))
      expect(h.drop('A', 'x').map((e) => e.cause)).toEqual(['expired'])
    })
  })

  describe('updates', () => {
    it('health when only the status changed', () => {
      const h = harness()
      h.put(liveClaim('A', 'x', 'svc', { A: 1 }))
      const next = liveClaim('A', 'x', 'svc', { A: 2 }, { status: 'warning' })
      expect(h.put(next)).toEqual([{ op: 'update', instance: next.instance, cause: 'health' }])
    })

    it('registered when the owner re-registered it with other fields', () => {
      const h = harness()
      h.put(liveClaim('A', 'x', 'svc', { A: 1 }))
      const next = liveClaim('A', 'x', 'svc', { A: 2 }, { version: 'v2', status: 'warning' })
      expect(h.put(next).map((e) => [e.op, e.cause])).toEqual([['update', 'registered']])
    })

    it('superseded when another node’s claim wins (a move, once the old owner lets go)', () => {
      const h = harness()
      const owner = liveClaim('A', 'x', 'svc', { A: 1 })
      h.put(owner)
      const moved = liveClaim('B', 'x', 'svc', { A: 1, B: 1 })
      // While A still holds it, B's claim is a conflict and A keeps the instance.
      expect(h.put(moved)).toEqual([])
      expect(h.view.get('x')).toBe(owner.instance)
      expect(h.view.conflicts()).toMatchObject([{ id: 'x', claimants: ['A', 'B'] }])
      expect(h.put(claim('A', 'x', { A: 2 }, null, 2))).toEqual([
        { op: 'update', instance: moved.instance, cause: 'superseded' },
      ])
      expect(h.view.get('x')).toBe(moved.instance)
      expect(h.view.conflicts()).toEqual([])
    })

    it('a name change is a delete from the old name and an add to the new one', () => {
      const h = harness()
      const old = liveClaim('A', 'x', 'old', { A: 1 })
      h.put(old)
      const renamed = liveClaim('A', 'x', 'new', { A: 2 })
      expect(h.put(renamed)).toEqual([
        { op: 'delete', instance: old.instance, cause: 'registered' },
        { op: 'add', instance: renamed.instance, cause: 'registered' },
      ])
      expect(h.view.healthy('old')).toEqual([])
      expect(h.view.healthy('new')).toEqual([renamed.instance])
    })

    it('a move under another name is superseded on both sides', () => {
      const h = harness()
      h.put(liveClaim('A', 'x', 'old', { A: 1 }))
      const moved = liveClaim('B', 'x', 'new', { A: 1, B: 1 })
      expect(h.put(moved)).toEqual([])
      const tomb = claim('A', 'x', { A: 2 }, null, 2)
      expect(h.put(tomb).map((e) => [e.op, e.instance.name, e.cause])).toEqual([
        ['delete', 'old', 'superseded'],
        ['add', 'new', 'superseded'],
      ])
    })

    it('no event for an equal instance, but the newer object is referenced', () => {
      const h = harness()
      h.put(liveClaim('A', 'x', 'svc', { A: 1 }))
      const same = claim('A', 'x', { A: 2 }, instance('x', 'svc', 'A'), 2)
      expect(h.put(same)).toEqual([])
      expect(h.view.get('x')).toBe(same.instance)
      expect(h.view.healthy('svc')[0]).toBe(same.instance)
    })
  })

  it('tracks conflicts and drops them once resolved', () => {
    const h = harness()
    h.put(liveClaim('A', 'x', 'svc', { A: 1 }))
    const b = liveClaim('B', 'x', 'svc', { B: 1 })
    expect(h.put(b).map((e) => e.cause)).toEqual(['superseded'])
    expect(h.view.conflicts()).toEqual([{ id: 'x', winner: b.instance, claimants: ['B', 'A'] }])
    expect(h.view.conflictCount).toBe(1)
    h.put(claim('A', 'x', { A: 2 }, null, 2))
    expect(h.view.conflicts()).toEqual([])
    expect(h.view.get('x')).toBe(b.instance)
  })

  it('moves the tag index with the instance', () => {
    const h = harness()
    h.put(liveClaim('A', 'x', 'svc', { A: 1 }, { tags: ['a', 'b'] }))
    h.put(liveClaim('A', 'x', 'svc', { A: 2 }, { tags: ['b', 'c'] }))
    expect(h.view.idsWithTag('a')).toBeUndefined()
    expect([...(h.view.idsWithTag('b') ?? [])]).toEqual(['x'])
    expect([...(h.view.idsWithTag('c') ?? [])]).toEqual(['x'])
  })

  it('replays: events applied to a map reproduce the view', () => {
    const h = harness()
    const replay = new Map<string, unknown>()
    const apply = (events: ReturnType<typeof h.put>) => {
      for (const e of events) {
        if (e.op === 'delete') replay.delete(e.instance.id)
        else replay.set(e.instance.id, e.instance)
      }
    }
    apply(h.put(liveClaim('A', 'x', 'one', { A: 1 })))
    apply(h.put(liveClaim('B', 'x', 'two', { A: 1, B: 1 })))
    apply(h.put(liveClaim('A', 'y', 'one', { A: 2 })))
    apply(h.setState('B', 'dead'))
    apply(h.put(claim('A', 'y', { A: 3 }, null, 3)))
    expect([...replay.keys()].sort()).toEqual(['x'])
    expect(replay.get('x')).toBe(h.view.get('x'))
  })
})
