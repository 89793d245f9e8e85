import type { GrapevineAgent } from '@grapevine/agent'
import type { Seal, ServiceInstance, SyncPart } from '@grapevine/core'
import { seededRandom, waitFor } from '@grapevine/core/testing'
import { clusterTopic, decodeSyncFrame } from '@grapevine/gossip'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type TestCluster } from './support/cluster.js'
import {
  type Attacker,
  fakeOrigins,
  type HonestState,
  hostileParts,
  hostileRawFrame,
  hostileSession,
  hostileTopicMessage,
  slowloris,
  startAttacker,
} from './support/hostile-traffic.js'

/**
 * The hostile-input suite of issue 9: three honest agents on 127.0.0.1 and one attacker (a
 * member with its own key) that sends, through the real topic and real sync streams, random,
 * truncated and oversized messages, forged origins, forged generations and coverage, forged
 * signatures, made-up origins, poisoned vectors, takeover attempts, quota floods and
 * slowloris streams. Seeded (GRAPEVINE_HOSTILE_SEED) and bounded; it prints its counts.
 *
 * Asserted: no crash, no change to any honest view or generation, no made-up member, the
 * attacker within its quota, every conflict won by the owner. Printed: the counts, and honest
 * register → everywhere p99 quiet and during the flood (issue 9 asks for ≥100,000 messages and
 * a flood p99 within 2× quiet; this suite does not reach either yet).
 */
const SEED = Number(process.env.GRAPEVINE_HOSTILE_SEED ?? 9)
/** Sync rounds (one hostile ACK2 of four parts each) and topic messages. */
const SYNC_ROUNDS = Number(process.env.GRAPEVINE_HOSTILE_ROUNDS ?? 2_000)
const TOPIC_MESSAGES = Number(process.env.GRAPEVINE_HOSTILE_TOPIC ?? 2_000)
const RAW_FRAMES = 400
const SLOWLORIS = 12
const QUOTA = 2_000
const PROBES = 60

function p99(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!
}

/** A node's view, minus the probes and the attacker's own instances (its own to register). */
function honestView(agent: GrapevineAgent, attacker: string): string[] {
  const out: string[] = []
  for (const [name, instances] of agent.services({ includeCritical: true })) {
    if (name === 'probe') continue
    for (const instance of instances as ServiceInstance[]) {
      if (instance.node !== attacker)
        out.push(`${name}/${instance.id}@${instance.node} ${instance.endpoints.join(',')}`)
    }
  }
  return out.sort()
}

describe('hostile input (issue 9)', () => {
  let cluster: TestCluster
  let attacker: Attacker

  beforeAll(async () => {
    cluster = await startCluster(3, { limits: { quota: { claims: QUOTA }, maxOrigins: 64 } })
    const [a, b, c] = cluster.agents as [GrapevineAgent, GrapevineAgent, GrapevineAgent]
    await b.register({ id: 'pay-1', name: 'pay', endpoints: ['http://10.0.0.2:8080'] })
    await b.register({ id: 'pay-2', name: 'pay', endpoints: ['http://10.0.0.2:8081'] })
    await c.register({ id: 'db-1', name: 'db', endpoints: ['tcp://10.0.0.3:5432'] })
    await waitFor('honest instances everywhere', () =>
      cluster.agents.every(
        (agent) => agent.getService('pay').length === 2 && agent.getService('db').length === 1,
      ),
    )
    attacker = await startAttacker(a.addresses)
    await waitFor('the attacker connected to the seed', () =>
      attacker.host.connectedPeers().includes(a.peerId),
    )
  })
  afterAll(async () => {
    await attacker?.stop()
    await cluster?.stop()
  })

  /** Register on B, time until A and C show it. */
  async function probe(i: number, phase: string): Promise<number> {
    const [a, b, c] = cluster.agents as [GrapevineAgent, GrapevineAgent, GrapevineAgent]
    const id = `${phase}-${i}`
    const started = performance.now()
    await b.register({ id, name: 'probe', endpoints: ['http://10.0.0.2:9000'] })
    await waitFor(
      `${id} everywhere`,
      () => [a, c].every((agent) => agent.getService('probe').some((x) => x.id === id)),
      {
        intervalMs: 1,
        timeoutMs: 10_000,
      },
    )
    return performance.now() - started
  }

  /** At least PROBES probes, and on until `until()`; each probe is deregistered after. */
  async function probes(phase: string, until: () => boolean): Promise<number[]> {
    const samples: number[] = []
    for (let i = 0; i < PROBES || !until(); i++) {
      samples.push(await probe(i, phase))
      await cluster.agents[1]!.deregister(`${phase}-${i}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return samples
  }

  it('survives a seeded flood of hostile messages with honest views and generations unchanged', async () => {
    const random = seededRandom(SEED)
    const [a, b, c] = cluster.agents as [GrapevineAgent, GrapevineAgent, GrapevineAgent]
    const quiet = await probes('quiet', () => true)
    const before = cluster.agents.map((agent) => honestView(agent, attacker.id))
    // Each honest node's record of every honest origin's generation (a forged one wiped it).
    const honestIds = cluster.agents.map((agent) => agent.peerId)
    const generations = () =>
      cluster.agents.map((agent) =>
        agent
          .members()
          .filter((m) => honestIds.includes(m.id))
          .map((m) => `${m.id}:${m.gen}`)
          .sort(),
      )
    const gensBefore = generations()

    // What the attacker learns from syncing: honest claims and seals, to replay and forge.
    const honest: HonestState = { seals: new Map<string, Seal>(), claims: new Map() }
    const learn = (parts: readonly SyncPart[]) => {
      for (const part of parts) {
        if (part.seal !== undefined) honest.seals.set(part.origin, part.seal)
        if (part.claims.length > 0) honest.claims.set(part.origin, [...part.claims])
      }
    }
    const fakes = await fakeOrigins(100)
    const victims = [b.peerId, c.peerId]
    const counts = { topic: 0, syncFrames: 0, syncParts: 0, raw: 0, slowloris: 0 }

    let flooding = true
    const started = performance.now()
    const timings = { sync: 0 }
    const flood = (async () => {
      // Sync: sessions of at most 1,000 rounds (the victim's limit), four at a time.
      const sessions = Math.ceil(SYNC_ROUNDS / 1_000)
      for (let s = 0; s < sessions; s += 4) {
        const batch = Array.from({ length: Math.min(4, sessions - s) }, (_, k) =>
          hostileSession(
            attacker,
            a.peerId,
            Math.min(1_000, SYNC_ROUNDS - (s + k) * 1_000),
            (round) => {
              const parts = hostileParts(round, random, attacker, honest, fakes, victims)
              counts.syncParts += parts.length
              return parts
            },
            learn,
            (bytes) => decodeSyncFrame(bytes, 8 * 1024 * 1024),
          ),
        )
        // Topic messages and raw frames interleaved with the sessions.
        const topic = clusterTopic('test')
        const share = Math.ceil(TOPIC_MESSAGES / Math.ceil(sessions / 4))
        for (let i = 0; i < share && counts.topic < TOPIC_MESSAGES; i++) {
          const bytes = hostileTopicMessage(counts.topic, random, attacker, honest, b.peerId)
          await attacker.host.libp2p.services.pubsub.publish(topic, bytes).catch(() => undefined)
          counts.topic++
          if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve))
        }
        const raws = Math.ceil(RAW_FRAMES / Math.ceil(sessions / 4))
        for (let i = 0; i < raws && counts.raw < RAW_FRAMES; i++) {
          await hostileRawFrame(attacker, a.peerId, counts.raw, random)
          counts.raw++
        }
        counts.syncFrames += (await Promise.all(batch)).reduce((sum, n) => sum + n, 0)
      }
      timings.sync = performance.now() - started
      // Last, slowloris: streams that announce 4 MiB frames and drip a byte at a time, past the
      // victim's read timeout. (Earlier, they would also hold the stream slots the sessions need:
      // four per connection, the limit that makes the victim reset the rest.)
      await Promise.all(
        Array.from({ length: SLOWLORIS }, () => slowloris(attacker, a.peerId, 6_000)),
      )
      counts.slowloris = SLOWLORIS
      flooding = false
    })()
    const during = await probes('flood', () => !flooding)
    await flood

    // Let anti-entropy run a few rounds, then compare.
    await waitFor('honest digests agree', () => {
      const digests = cluster.agents.map((agent) => {
        const stats = agent.stats()
        return `${stats.instances}`
      })
      return new Set(digests).size === 1
    })
    const after = cluster.agents.map((agent) => honestView(agent, attacker.id))
    const hostile = counts.topic + counts.syncParts + counts.raw + counts.slowloris
    const dropped = cluster.agents.map((agent) => agent.stats().dropped)
    const summary = {
      seed: SEED,
      hostile,
      ...counts,
      floodMs: Math.round(timings.sync),
      quietP99: Math.round(p99(quiet) * 10) / 10,
      floodP99: Math.round(p99(during) * 10) / 10,
      probes: { quiet: quiet.length, flood: during.length },
      droppedBySeed: dropped[0],
      attackerInstances: a.getService('hostile').length,
      conflicts: a
        .conflicts()
        .map((x) => `${x.id}: ${x.winner.node === attacker.id ? 'ATTACKER' : 'owner'} wins`),
    }
    console.log(`hostile input: ${JSON.stringify(summary)}`)

    // Not yet asserted (issue 9's bar, not met): ≥100,000 hostile messages and flood p99 ≤ 2×
    // quiet p99. The counts and both p99s are printed above for the record.
    expect(hostile).toBeGreaterThan(1_000)
    expect(after).toEqual(before)
    expect(generations()).toEqual(gensBefore)
    for (const agent of cluster.agents) {
      expect(agent.getService('pay').map((x) => x.endpoints[0])).toEqual([
        'http://10.0.0.2:8080',
        'http://10.0.0.2:8081',
      ])
      expect(agent.conflicts().every((x) => x.winner.node !== attacker.id)).toBe(true)
      // The attacker's own instances: at most its quota, on every node.
      expect(agent.service('hostile', { includeCritical: true }).length).toBeLessThanOrEqual(QUOTA)
    }
    // No made-up origin became a member anywhere; every honest origin is where it says it is.
    for (const agent of cluster.agents) {
      const members = agent.members().map((m) => m.id)
      for (const fake of fakes) expect(members).not.toContain(fake.id)
    }
  }, 240_000)
})
