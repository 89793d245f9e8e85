import { waitFor, within } from '@grapevine/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { generatePrivateKey } from '../src/index.js'
import { service, startNode, stopAll, type TestNode } from './helpers.js'

describe('gossip: three nodes on 127.0.0.1', () => {
  let nodes: TestNode[] = []
  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  async function cluster(): Promise<[TestNode, TestNode, TestNode]> {
    const a = await startNode()
    const b = await startNode({ bootstrap: [a] })
    const c = await startNode({ bootstrap: [a] })
    nodes = [a, b, c]
    await within(Promise.all(nodes.map((n) => n.node.ready)), 'ready on every node', 5_000)
    return [a, b, c]
  }

  it('a DELTA published on one node arrives on the others', async () => {
    const [a, b, c] = await cluster()
    // Wait for the mesh: B's write has to reach C through A.
    await waitFor(
      'heartbeats across the mesh',
      () =>
        a.registry.liveness.state(c.id) === 'alive' && c.registry.liveness.state(b.id) === 'alive',
      { timeoutMs: 5_000 },
    )
    const arrived = new Map<string, number>()
    a.registry.onEvent(() => arrived.set('A', performance.now()))
    c.registry.onEvent(() => arrived.set('C', performance.now()))
    const start = performance.now()
    const { delta } = b.registry.register(service('user-service', 1))
    b.node.publish(delta)
    await waitFor('A sees the instance', () => a.registry.getService('user-service').length === 1, {
      timeoutMs: 5_000,
    })
    await waitFor('C sees the instance', () => c.registry.getService('user-service').length === 1, {
      timeoutMs: 5_000,
    })
    const toA = arrived.get('A')! - start
    const toC = arrived.get('C')! - start
    // Includes the 5 ms DELTA batching delay.
    console.log(`propagation: B→A ${toA.toFixed(1)} ms, B→C ${toC.toFixed(1)} ms`)
    expect(c.registry.getService('user-service')[0]?.node).toBe(b.id)

    const stats = c.node.stats()
    expect(stats.messagesIn).toBeGreaterThan(0)
    expect(stats.bytesIn).toBeGreaterThan(0)
    // `origin`: parts relayed for a member before its own first message reached this node.
    expect(Object.keys(stats.dropped).filter((reason) => reason !== 'origin')).toEqual([])
  })

  it('members() lists self and the other origins, alive, with addresses of connected peers', async () => {
    const [a, b, c] = await cluster()
    await waitFor(
      'A knows B and C as alive',
      () => a.node.members().filter((m) => m.state === 'alive').length === 3,
      { timeoutMs: 5_000 },
    )
    const members = a.node.members()
    const self = members.find((m) => m.self)
    expect(self?.id).toBe(a.id)
    expect(self?.addresses.length).toBeGreaterThan(0)
    const mb = members.find((m) => m.id === b.id)
    expect(mb?.gen).toBe(b.registry.gen)
    expect(mb?.addresses.length).toBeGreaterThan(0)
    expect(mb?.lastHeardMsAgo).toBeLessThan(2_000)
    expect(members.map((m) => m.id).sort()).toEqual([a.id, b.id, c.id].sort())
  })

  it('probes go as sealed datagrams, and succeed', async () => {
    const [, b, c] = await cluster()
    await waitFor('B knows C', () => b.node.membership.member(c.id)?.state === 'alive', {
      timeoutMs: 5_000,
    })
    const before = b.node.membership.stats()
    await waitFor(
      'B has probed C, and others, a few times',
      () => b.node.membership.stats().probes >= before.probes + 6,
      { timeoutMs: 5_000 },
    )
    const after = b.node.membership.stats()
    expect(after.datagramsOut).toBeGreaterThan(before.datagramsOut)
    expect(after.datagramsIn).toBeGreaterThan(before.datagramsIn)
    expect(after.failedProbes).toBe(before.failedProbes)
    expect(b.node.membership.member(c.id)?.state).toBe('alive')
  })

  it('a stopped node is noticed through the closed connection, well before its lease runs out', async () => {
    const [a, b, c] = await cluster()
    c.node.publish(c.registry.register(service('payments', 1)).delta)
    await waitFor('A sees C’s instance', () => a.registry.getService('payments').length === 1, {
      timeoutMs: 5_000,
    })
    await waitFor('B sees C’s instance', () => b.registry.getService('payments').length === 1, {
      timeoutMs: 5_000,
    })

    const start = performance.now()
    await c.node.stop()
    await waitFor('A suspects C', () => a.registry.liveness.state(c.id) === 'suspect', {
      timeoutMs: 1_000,
    })
    const suspect = performance.now() - start
    await waitFor('A hides C’s instance', () => a.registry.getService('payments').length === 0, {
      timeoutMs: 2_000,
    })
    const hidden = performance.now() - start
    await waitFor('B hides C’s instance', () => b.registry.getService('payments').length === 0, {
      timeoutMs: 2_000,
    })
    console.log(`stop noticed: suspect ${suspect.toFixed(0)} ms, hidden ${hidden.toFixed(0)} ms`)
    expect(hidden).toBeLessThan(1_500)
  })

  it('leave() spreads LEAVE and the tombstones, then stops; peers report cause left', async () => {
    const [a, b, c] = await cluster()
    b.node.publish(b.registry.register(service('search', 1)).delta)
    b.node.publish(b.registry.register(service('search', 2)).delta)
    await waitFor('C sees both instances', () => c.registry.getService('search').length === 2, {
      timeoutMs: 5_000,
    })

    const causes: string[] = []
    c.registry.onEvent((event) => causes.push(event.cause))
    const start = performance.now()
    await within(b.node.leave(b.registry.deregisterAll()), 'leave()', 5_000)
    const took = performance.now() - start
    await waitFor('C drops B’s instances', () => c.registry.getService('search').length === 0, {
      timeoutMs: 5_000,
    })
    await waitFor('A marks B as left', () => a.registry.liveness.state(b.id) === 'left', {
      timeoutMs: 5_000,
    })
    console.log(`leave() took ${took.toFixed(0)} ms`)
    // LEAVE goes out before the tombstones, so peers hide the instances as `left`.
    expect(causes).toEqual(['left', 'left'])
    // The tombstones still arrive: the instances stay gone even if B's LEAVE were forgotten.
    await waitFor(
      'C holds B’s tombstones',
      () => c.registry.replica.claimsOf(b.id).every((claim) => claim.instance === null),
      { timeoutMs: 5_000 },
    )
  })

  it('a restarted node (same identity, new generation) replaces its old claims', async () => {
    const privateKey = await generatePrivateKey()
    const a = await startNode()
    const b = await startNode({ bootstrap: [a], host: { privateKey } })
    nodes = [a, b]
    b.node.publish(b.registry.register(service('old', 1)).delta)
    await waitFor('A sees the old instance', () => a.registry.getService('old').length === 1, {
      timeoutMs: 5_000,
    })

    await stopAll([b])
    const again = await startNode({ bootstrap: [a], host: { privateKey } })
    nodes = [a, again]
    expect(again.id).toBe(b.id)
    await within(again.node.ready, 'restarted node ready', 5_000)
    again.node.publish(again.registry.register(service('new', 1)).delta)
    await waitFor('A sees the new instance', () => a.registry.getService('new').length === 1, {
      timeoutMs: 5_000,
    })
    await waitFor('A drops the old generation', () => a.registry.getService('old').length === 0, {
      timeoutMs: 5_000,
    })
    expect(a.registry.liveness.gen(b.id)).toBe(again.registry.gen)
  })
})

describe('gossip: members known only through sync', () => {
  let nodes: TestNode[] = []
  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('a joiner hides the instances of a member that died before it joined', async () => {
    const a = await startNode()
    const c = await startNode({ bootstrap: [a] })
    nodes = [a, c]
    c.node.publish(c.registry.register(service('ghost', 1)).delta)
    await waitFor('A sees C’s instance', () => a.registry.getService('ghost').length === 1, {
      timeoutMs: 5_000,
    })
    await stopAll([c])
    await waitFor('A marks C dead', () => a.registry.liveness.state(c.id) === 'dead', {
      timeoutMs: 3_000,
    })

    // A still stores C's claims (until purgeAfter) and offers them to the joiner. B learns of
    // C only through membership, from C's own signed ALIVE and the DEAD that A declared (a
    // relay cannot introduce an origin otherwise): whatever of C's claims it takes stays hidden.
    const b = await startNode({ bootstrap: [a] })
    nodes = [a, b]
    await within(b.node.ready, 'B ready', 5_000)
    await waitFor('B knows C as dead', () => b.node.membership.member(c.id)?.state === 'dead', {
      timeoutMs: 4_000,
    })
    expect(b.registry.getService('ghost')).toEqual([])
    expect(b.registry.liveness.state(c.id)).toBe('dead')
  })
})

describe('gossip: ready', () => {
  let nodes: TestNode[] = []
  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('resolves at once for a lone node, and after readyTimeout when bootstrap peers are down', async () => {
    const lone = await startNode()
    nodes = [lone]
    await within(lone.node.ready, 'lone node ready', 500)

    const start = performance.now()
    const orphan = await startNode({
      host: { bootstrap: ['/ip4/127.0.0.1/tcp/1'] },
      gossip: { readyTimeout: 400 },
    })
    nodes.push(orphan)
    await within(orphan.node.ready, 'orphan ready', 2_000)
    expect(performance.now() - start).toBeGreaterThanOrEqual(350)
  })
})
