import { describe, expect, it } from 'vitest'
import { Awareness } from '../src/awareness.js'
import type { MemberRecord, SwimMessage } from '../src/membership-types.js'
import { RetransmitQueue, retransmitLimit } from '../src/retransmit-queue.js'
import { Suspicion, suspicionTimeout, suspicionTimeoutAfter } from '../src/suspicion.js'
import { createSwim, type Swim, type SwimInit } from '../src/swim.js'
import { SWIM_PROFILES } from '../src/swim-profiles.js'
import { seededRandom } from '../src/testing/random.js'

const T = SWIM_PROFILES.lan
const NO_SIG = new Uint8Array(0)

describe('suspicion timeout math', () => {
  it.each([
    [0, 3, 2_000, 30_000, 30_000],
    [1, 3, 2_000, 30_000, 16_000],
    [2, 3, 2_000, 30_000, 7_810],
    [3, 3, 2_000, 30_000, 2_000],
    [4, 3, 2_000, 30_000, 2_000],
    [5, 0, 2_000, 30_000, 2_000],
  ])('%i of %i confirmations, min %i, max %i → %i ms', (c, k, min, max, expected) => {
    expect(Math.abs(suspicionTimeoutAfter(c, k, min, max) - expected)).toBeLessThanOrEqual(1)
  })

  it('scales the minimum with log10 of the cluster size, never below one', () => {
    expect(suspicionTimeout(4, 1, 1_000)).toBe(4_000)
    expect(suspicionTimeout(4, 10, 1_000)).toBe(4_000)
    expect(suspicionTimeout(4, 1_000, 1_000)).toBe(12_000)
  })

  it('counts each accuser once and stops shrinking at k', () => {
    const s = new Suspicion('a', 0, 2, 1_000, 6_000)
    expect(s.deadline).toBe(6_000)
    expect(s.confirm('a')).toBe(false)
    expect(s.confirm('b')).toBe(true)
    expect(s.confirm('b')).toBe(false)
    expect(s.confirm('c')).toBe(true)
    expect(s.deadline).toBe(1_000)
    expect(s.confirm('d')).toBe(false)
  })
})

describe('local health and retransmits', () => {
  it('clamps the score to [0, max − 1] and scales timeouts by score + 1', () => {
    const a = new Awareness(8)
    a.apply(-1)
    expect(a.scale(100)).toBe(100)
    a.apply(20)
    expect(a.score).toBe(7)
    expect(a.scale(100)).toBe(800)
  })

  it('sends each update λ·ceil(log10(n + 1)) times, least-sent first, newest replacing older', () => {
    expect(retransmitLimit(4, 9)).toBe(4)
    expect(retransmitLimit(4, 10)).toBe(8)
    expect(retransmitLimit(4, 10_000)).toBe(20)
    const q = new RetransmitQueue<string>()
    q.push('a', 'a1')
    q.push('b', 'b1')
    q.push('a', 'a2')
    expect(q.take(1, 2)).toEqual(['a2'])
    expect(q.take(2, 2)).toEqual(['b1', 'a2'])
    expect(q.take(2, 2)).toEqual(['b1'])
    expect(q.size).toBe(0)
  })
})

/** Two or more state machines wired by hand on one clock; `extra` goes to each one's init. */
function machines(ids: string[], extra: Partial<SwimInit> = {}) {
  const clock = { time: 0 }
  const swims = new Map<string, Swim>()
  for (const id of ids) {
    swims.set(
      id,
      createSwim({
        self: id,
        gen: 1,
        name: `host-${id}`,
        addrs: [`/ip4/10.0.0.1/tcp/1/p2p/${id}`],
        cluster: 'test',
        now: () => clock.time,
        random: seededRandom(7),
        timings: T,
        signer: { sign: () => NO_SIG },
        purgeAfter: 60_000,
        ...extra,
      }),
    )
  }
  const alive = (id: string): MemberRecord => ({
    kind: 'alive',
    id,
    gen: 1,
    incarnation: 0,
    name: `host-${id}`,
    addrs: [],
    sig: NO_SIG,
  })
  for (const [id, swim] of swims) {
    for (const other of ids) if (other !== id) swim.receiveRecord(alive(other))
    swim.drain()
  }
  return { clock, swims, get: (id: string) => swims.get(id)! }
}

const kinds = (messages: { to: string; message: SwimMessage }[]) =>
  messages.map(({ to, message }) => `${message.kind}→${to}`)

describe('SWIM state machine', () => {
  it('admits a member by its ALIVE and tells the registry, with its name', () => {
    const { get } = machines(['a'])
    const a = get('a')
    a.receiveRecord({
      kind: 'alive',
      id: 'b',
      gen: 3,
      incarnation: 1,
      name: 'web-1',
      addrs: ['/x'],
      sig: NO_SIG,
    })
    expect(a.drain().facts).toEqual([
      { id: 'b', state: 'alive', gen: 3, name: 'web-1', addrs: ['/x'] },
    ])
    expect(a.member('b')).toMatchObject({ state: 'alive', incarnation: 1, name: 'web-1' })
  })

  it('probes, goes indirect after the probe timeout, suspects after the period, floods it', () => {
    const { clock, get } = machines(['a', 'b', 'c', 'd', 'e'])
    const a = get('a')
    a.start()
    a.drain()
    clock.time = T.probeInterval
    a.tick()
    const ping = a.drain().messages
    expect(ping).toHaveLength(1)
    const target = ping[0]!.to
    clock.time += T.probeTimeout
    a.tick()
    const indirect = a.drain().messages
    expect(indirect.map((m) => m.message.kind)).toEqual(['ping-req', 'ping-req', 'ping-req'])
    expect(indirect.every((m) => m.to !== target)).toBe(true)
    // The period ends a probe interval after the ping (or two timeouts, if that is longer).
    clock.time = T.probeInterval + Math.max(T.probeInterval, 2 * T.probeTimeout)
    a.tick()
    const out = a.drain()
    expect(out.floods).toMatchObject([{ kind: 'suspect', id: target, from: 'a', incarnation: 0 }])
    expect(out.facts).toMatchObject([{ id: target, state: 'suspect' }])
  })

  it('acks a ping and relays an indirect probe with the requester’s seq', () => {
    const { get } = machines(['a', 'b', 'c'])
    const b = get('b')
    b.receive('a', { kind: 'ping', seq: 7, target: 'b', updates: [] })
    expect(b.drain().messages).toMatchObject([{ to: 'a', message: { kind: 'ack', seq: 7 } }])
    b.receive('a', { kind: 'ping-req', seq: 9, target: 'c', updates: [] })
    const relay = b.drain().messages
    expect(kinds(relay)).toEqual(['ping→c'])
    const relaySeq = (relay[0]!.message as { seq: number }).seq
    b.receive('c', { kind: 'ack', seq: relaySeq, updates: [] })
    expect(b.drain().messages).toMatchObject([{ to: 'a', message: { kind: 'ack', seq: 9 } }])
  })

  it('NACKs an indirect probe whose target did not answer in time', () => {
    const { clock, get } = machines(['a', 'b', 'c'])
    const b = get('b')
    b.receive('a', { kind: 'ping-req', seq: 9, target: 'c', updates: [] })
    b.drain()
    clock.time += T.probeTimeout
    b.tick()
    expect(b.drain().messages).toMatchObject([{ to: 'a', message: { kind: 'nack', seq: 9 } }])
  })

  it('refutes a suspicion of itself with a higher incarnation, flooded', () => {
    const { get } = machines(['a', 'b'])
    const a = get('a')
    a.receiveRecord({ kind: 'suspect', id: 'a', gen: 1, incarnation: 0, from: 'b', sig: NO_SIG })
    const out = a.drain()
    expect(a.incarnation).toBe(1)
    expect(out.floods).toMatchObject([{ kind: 'alive', id: 'a', incarnation: 1 }])
    expect(a.health).toBe(1)
  })

  it('states how far it has written in each ALIVE it signs, newly signed when it wrote since', () => {
    let written = 5
    const { clock, get } = machines(['a'], { covered: () => written })
    const a = get('a')
    const suspicion = { kind: 'suspect', id: 'a', gen: 1, from: 'b', sig: NO_SIG } as const
    a.receiveRecord({ ...suspicion, incarnation: 0 })
    expect(a.drain().floods).toMatchObject([{ kind: 'alive', incarnation: 1, covered: 5 }])
    // A stale accusation with nothing written since: the same ALIVE again.
    clock.time += T.probeInterval
    a.receiveRecord({ ...suspicion, incarnation: 0 })
    expect(a.drain().floods).toMatchObject([{ kind: 'alive', incarnation: 1, covered: 5 }])
    // Written since: whoever still accuses may lack those writes, so it states them anew.
    written = 9
    clock.time += T.probeInterval
    a.receiveRecord({ ...suspicion, incarnation: 0 })
    expect(a.drain().floods).toMatchObject([{ kind: 'alive', incarnation: 2, covered: 9 }])
    expect(a.incarnation).toBe(2)
  })

  it('floods its current ALIVE again when announced, and never before it started or once leaving', () => {
    const { get } = machines(['a', 'b'])
    const a = get('a')
    a.announce()
    expect(a.drain().floods).toEqual([])
    a.start()
    a.drain()
    a.announce()
    expect(a.drain().floods).toMatchObject([{ kind: 'alive', id: 'a', incarnation: 0 }])
    a.leave()
    a.drain()
    a.announce()
    expect(a.drain().floods).toEqual([])
  })

  it('passes a member’s stated coverage on with the fact that brings it back', () => {
    const { get } = machines(['a', 'b'])
    const a = get('a')
    a.receiveRecord({ kind: 'dead', id: 'b', gen: 1, incarnation: 0, from: 'c', sig: NO_SIG })
    a.drain()
    const back = { kind: 'alive', id: 'b', gen: 1, name: 'host-b', addrs: [], sig: NO_SIG } as const
    a.receiveRecord({ ...back, incarnation: 1, covered: 12 })
    expect(a.drain().facts).toEqual([
      { id: 'b', state: 'alive', gen: 1, name: 'host-b', addrs: [], covered: 12 },
    ])
    a.receiveRecord({ kind: 'suspect', id: 'b', gen: 1, incarnation: 1, from: 'c', sig: NO_SIG })
    expect(a.drain().facts).toEqual([
      { id: 'b', state: 'suspect', gen: 1, name: 'host-b', addrs: [] },
    ])
  })

  it('lets a higher incarnation beat a suspicion and a death, and ignores stale records', () => {
    const { get } = machines(['a', 'b'])
    const a = get('a')
    a.receiveRecord({ kind: 'suspect', id: 'b', gen: 1, incarnation: 0, from: 'c', sig: NO_SIG })
    expect(a.member('b')?.state).toBe('suspect')
    a.receiveRecord({
      kind: 'alive',
      id: 'b',
      gen: 1,
      incarnation: 1,
      name: 'b',
      addrs: [],
      sig: NO_SIG,
    })
    expect(a.member('b')?.state).toBe('alive')
    a.receiveRecord({ kind: 'suspect', id: 'b', gen: 1, incarnation: 0, from: 'c', sig: NO_SIG })
    expect(a.member('b')?.state).toBe('alive')
    a.receiveRecord({ kind: 'dead', id: 'b', gen: 1, incarnation: 1, from: 'c', sig: NO_SIG })
    expect(a.member('b')?.state).toBe('dead')
    a.receiveRecord({
      kind: 'alive',
      id: 'b',
      gen: 1,
      incarnation: 1,
      name: 'b',
      addrs: [],
      sig: NO_SIG,
    })
    expect(a.member('b')?.state).toBe('dead')
    a.receiveRecord({
      kind: 'alive',
      id: 'b',
      gen: 1,
      incarnation: 2,
      name: 'b',
      addrs: [],
      sig: NO_SIG,
    })
    expect(a.member('b')?.state).toBe('alive')
  })

  it('keeps LEFT final for its generation; a restart (new generation) comes back', () => {
    const { get } = machines(['a', 'b'])
    const a = get('a')
    a.receiveRecord({ kind: 'left', id: 'b', gen: 1, incarnation: 0, sig: NO_SIG })
    a.receiveRecord({
      kind: 'alive',
      id: 'b',
      gen: 1,
      incarnation: 5,
      name: 'b',
      addrs: [],
      sig: NO_SIG,
    })
    expect(a.member('b')?.state).toBe('left')
    a.receiveRecord({
      kind: 'alive',
      id: 'b',
      gen: 2,
      incarnation: 0,
      name: 'b',
      addrs: [],
      sig: NO_SIG,
    })
    expect(a.member('b')).toMatchObject({ state: 'alive', gen: 2 })
  })

  it('declares dead at the minimum timeout once k members confirmed, and floods DEAD', () => {
    const { clock, get } = machines(['a', 'b', 'c', 'd', 'e', 'f'])
    const a = get('a')
    a.start()
    a.receiveRecord({ kind: 'suspect', id: 'f', gen: 1, incarnation: 0, from: 'b', sig: NO_SIG })
    for (const from of ['c', 'd', 'e']) {
      a.receiveRecord({ kind: 'suspect', id: 'f', gen: 1, incarnation: 0, from, sig: NO_SIG })
    }
    a.drain()
    clock.time = suspicionTimeout(T.suspicionMult, 6, T.probeInterval) - 1
    a.tick()
    expect(a.member('f')?.state).toBe('suspect')
    clock.time += 1
    a.tick()
    expect(a.member('f')?.state).toBe('dead')
    // The flood waits for a random part of a period, in case another member's comes first.
    expect(a.drain().floods).toEqual([])
    clock.time += T.probeInterval
    a.tick()
    // Its own probes go unanswered here too, so other accusations may be flooded beside it.
    const deads = a.drain().floods.filter((record) => record.kind === 'dead')
    expect(deads).toMatchObject([{ kind: 'dead', id: 'f', from: 'a' }])
  })

  it('does not flood its DEAD when another member’s DEAD of the same life arrives first', () => {
    const { clock, get } = machines(['a', 'b', 'c', 'd', 'e', 'f'])
    const a = get('a')
    a.start()
    for (const from of ['b', 'c', 'd', 'e']) {
      a.receiveRecord({ kind: 'suspect', id: 'f', gen: 1, incarnation: 0, from, sig: NO_SIG })
    }
    a.drain()
    clock.time = suspicionTimeout(T.suspicionMult, 6, T.probeInterval)
    a.tick()
    expect(a.member('f')?.state).toBe('dead')
    a.receiveRecord({ kind: 'dead', id: 'f', gen: 1, incarnation: 0, from: 'b', sig: NO_SIG })
    clock.time += T.probeInterval
    a.tick()
    expect(a.drain().floods).toEqual([])
    expect(a.member('f')?.state).toBe('dead')
  })

  it('on a late tick, widens its own timeouts instead of accusing', () => {
    const { clock, get } = machines(['a', 'b', 'c', 'd', 'e'])
    const a = get('a')
    a.start()
    clock.time = T.probeInterval
    a.tick()
    a.drain()
    a.nextDeadline()
    // The process stalled for 2 s: every deadline is overdue.
    clock.time += 2_000
    a.tick()
    const out = a.drain()
    expect(out.messages.filter((m) => m.message.kind === 'ping-req')).toEqual([])
    expect(out.floods).toEqual([])
    expect(a.health).toBeGreaterThan(0)
  })

  it('sends a member what it holds against it first, so a resumed node refutes at once', () => {
    const { get } = machines(['a', 'b'])
    const a = get('a')
    a.receiveRecord({ kind: 'dead', id: 'b', gen: 1, incarnation: 0, from: 'c', sig: NO_SIG })
    a.drain()
    a.receive('b', { kind: 'ping', seq: 1, target: 'a', updates: [] })
    const [reply] = a.drain().messages
    expect(reply?.message).toMatchObject({ kind: 'ack', updates: [{ kind: 'dead', id: 'b' }] })
  })

  /**
   * Runs three converged machines for `ms`, delivering at once through `alter`; returns who
   * sent whom a table exchange (push-pull's first half).
   */
  function exchanges(ms: number, alter: (from: string, message: SwimMessage) => SwimMessage) {
    const { clock, swims } = machines(['a', 'b', 'c'])
    const sent: string[] = []
    for (const swim of swims.values()) swim.start()
    for (; clock.time < ms; clock.time += 100) {
      for (const [from, swim] of swims) {
        if (swim.nextDeadline() <= clock.time) swim.tick()
        const pending = [{ from, out: swim.drain().messages }]
        while (pending.length > 0) {
          const { from: sender, out } = pending.pop()!
          for (const { to, message } of out) {
            if (message.kind === 'state' && message.reply) sent.push(`${sender}→${to}`)
            const target = swims.get(to)!
            target.receive(sender, alter(sender, message))
            pending.push({ from: to, out: target.drain().messages })
          }
        }
      }
    }
    return sent
  }
  const untag = (message: SwimMessage): SwimMessage => {
    if (message.kind !== 'ping' && message.kind !== 'ack') return message
    const { table: _, ...rest } = message
    return rest as SwimMessage
  }

  it('skips push-pull with members whose table tag matches, except every tenth round', () => {
    // 320 s is about ten push-pull periods for each of the three.
    const untagged = exchanges(320_000, (_, message) => untag(message))
    const tagged = exchanges(320_000, (_, message) => message)
    expect(untagged.length).toBeGreaterThanOrEqual(24)
    expect(tagged.length).toBeGreaterThanOrEqual(1)
    expect(tagged.length).toBeLessThanOrEqual(6)
  })

  it('sends push-pull to a member whose table tag differs from ours', () => {
    // b's tags reach a garbled: a believes b's table differs; c's tags stay true.
    const sent = exchanges(320_000, (from, message) =>
      from === 'b' && 'table' in message && message.table !== undefined
        ? { ...message, table: (message.table + 1) >>> 0 }
        : message,
    )
    const fromA = sent.filter((pair) => pair.startsWith('a→'))
    expect(fromA.filter((pair) => pair === 'a→b').length).toBeGreaterThanOrEqual(8)
    expect(fromA.filter((pair) => pair === 'a→c').length).toBeLessThanOrEqual(1)
  })

  it('wakes only for its probes while no member is down, and pings a dead one each reconnect round', () => {
    const { clock, get } = machines(['a', 'b'])
    const a = get('a')
    const b = get('b')
    a.start()
    b.start()
    const deliver = (from: Swim, to: Swim) => {
      for (const { message } of from.drain().messages) to.receive(from.self, message)
    }
    let wakeUps = 0
    const end = 10_000
    while (a.nextDeadline() <= end) {
      clock.time = Math.max(clock.time, a.nextDeadline())
      a.tick()
      wakeUps++
      deliver(a, b)
      deliver(b, a)
      deliver(a, b)
    }
    // 20 probe periods; a reconnect round a second would add ten more wake-ups.
    expect(wakeUps).toBeLessThanOrEqual(end / T.probeInterval + 1)

    a.receiveRecord({ kind: 'dead', id: 'b', gen: 1, incarnation: 0, from: 'a', sig: NO_SIG })
    a.drain()
    const pings: number[] = []
    while (a.nextDeadline() <= end + 5_000) {
      clock.time = Math.max(clock.time, a.nextDeadline())
      a.tick()
      for (const { to, message } of a.drain().messages) {
        if (to === 'b' && message.kind === 'ping') pings.push(clock.time)
      }
    }
    expect(pings.length).toBeGreaterThanOrEqual(4)
  })

  it('trades whole tables with a peer it does not know', () => {
    const { get } = machines(['a', 'b'])
    const a = get('a')
    a.connected('z')
    const [message] = a.drain().messages
    expect(message).toMatchObject({ to: 'z', message: { kind: 'state', reply: true } })
    const records = (message!.message as { records: readonly MemberRecord[] }).records
    expect(records.map((r) => `${r.kind}:${r.id}`).sort()).toEqual(['alive:a', 'alive:b'])
  })
})
