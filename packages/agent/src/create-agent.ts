import {
  type AgentStats,
  AgentStoppedError,
  agentReads,
  createRegistryNode,
  type Delta,
  type MemberState,
  resolveTimings,
  validateRegistration,
} from '@grapevine/core'
import {
  createGossipNode,
  createHost,
  generatePrivateKey,
  marshalPrivateKey,
  type PrivateKey,
  unmarshalPrivateKey,
} from '@grapevine/gossip'
import type { AgentOptions } from './agent-options.js'
import type { AgentRegistration, GrapevineAgent } from './agent-types.js'
import { createCheckRunner, validateChecks } from './checks/index.js'
import { type DataDir, openDataDir } from './data-dir.js'
import { createRegistrationStore } from './registration-store.js'

async function loadIdentity(dataDir: DataDir | undefined): Promise<PrivateKey> {
  const stored = await dataDir?.readIdentity()
  if (stored !== undefined) return unmarshalPrivateKey(stored)
  const key = await generatePrivateKey()
  await dataDir?.writeIdentity(marshalPrivateKey(key))
  return key
}

/**
 * Starts a Grapevine agent: a libp2p node that joins the cluster (by mDNS and/or bootstrap
 * addresses), replicates every registration, and answers queries from its own replica.
 *
 * With `dataDir`, the node keeps its identity across restarts, each start is a new
 * generation that replaces the previous one's claims, and its own registrations (with their
 * checks) are announced again. Without it, every start is a new node.
 */
export async function createAgent(options: AgentOptions = {}): Promise<GrapevineAgent> {
  const { readyTimeout, ...profileOverrides } = options.timings ?? {}
  const timings = resolveTimings(options.profile ?? 'lan', profileOverrides)
  const dataDir = options.dataDir === undefined ? undefined : await openDataDir(options.dataDir)
  const privateKey = await loadIdentity(dataDir)
  // Without a disk, a timestamp is a generation that still grows from one start to the next.
  const gen = dataDir === undefined ? Date.now() : await dataDir.nextGeneration()
  const now = () => performance.now()

  const host = await createHost({
    cluster: options.cluster ?? 'default',
    privateKey,
    mdns: options.mdns ?? true,
    ...(options.listen && { listen: options.listen }),
    ...(options.announce && { announce: options.announce }),
    ...(options.bootstrap && { bootstrap: options.bootstrap }),
    ...(options.clusterKey !== undefined && { clusterKey: options.clusterKey }),
    ...(options.ipColocationWeight !== undefined && {
      ipColocationWeight: options.ipColocationWeight,
    }),
  })
  const registry = createRegistryNode({
    nodeId: host.peerId,
    gen,
    now,
    timings,
    tombstoneTtl: timings.tombstoneTtl,
  })
  const gossip = createGossipNode(
    {
      membership: timings,
      purgeAfter: timings.purgeAfter,
      syncInterval: timings.syncInterval,
      ...(options.nodeName !== undefined && { nodeName: options.nodeName }),
      now,
      ...(readyTimeout !== undefined && { readyTimeout }),
      ...(options.faults && { faults: options.faults }),
    },
    { registry, host },
  )
  registry.onConflict((conflict) =>
    host.log.error(
      'conflict: instance %s is claimed by %s; %s keeps it',
      conflict.id,
      conflict.claimants.join(', '),
      conflict.winner.node,
    ),
  )
  const saved = (await dataDir?.readRegistrations()) ?? []
  // Starts empty: the saved registrations are registered again below, which stores them.
  const store = createRegistrationStore<AgentRegistration>(dataDir)

  let stopped = false
  const publish = (delta: Delta | undefined): void => {
    if (delta !== undefined && !stopped) gossip.publish(delta)
  }
  const runner = createCheckRunner(
    {},
    {
      onStatus: (id, status) => publish(registry.setStatus(id, status)),
      onDeregister: (id) => void deregister(id).catch(() => undefined),
    },
  )

  function running(): void {
    if (stopped) throw new AgentStoppedError()
  }

  async function register(input: AgentRegistration): Promise<string> {
    running()
    // Everything is validated before anything is written, so bad input changes nothing. A
    // non-object input has no checks; validateRegistration rejects it.
    const fields: Partial<AgentRegistration> =
      typeof input === 'object' && input !== null ? input : {}
    const checks = validateChecks(fields.checks ?? [])
    validateRegistration(input, host.peerId, () => 'unassigned')
    const id = fields.id ?? crypto.randomUUID()
    // The runner decides the status before the one write: a new instance starts at its checks'
    // initial status, a re-registered one keeps the state of its unchanged checks (no flap).
    const status = checks.length > 0 ? runner.add(id, checks) : undefined
    if (checks.length === 0) runner.remove(id)
    publish(registry.register({ ...input, id, ...(status && { status }) }).delta)
    await store.set(id, { ...input, id })
    return id
  }

  async function deregister(id: string): Promise<void> {
    running()
    publish(registry.deregister(id))
    runner.remove(id)
    await store.delete(id)
  }

  /** Stops the node; with `leaving`, tombstones every own instance and says LEAVE first. */
  async function shutDown(leaving: boolean): Promise<void> {
    if (stopped) return
    stopped = true
    runner.stop()
    if (leaving) await gossip.leave(registry.deregisterAll())
    else await gossip.stop()
    registry.close()
  }

  await gossip.start()
  for (const registration of saved) {
    try {
      await register(registration as AgentRegistration)
    } catch (err) {
      host.log.error('stored registration %o is invalid and was skipped: %s', registration, err)
    }
  }
  // Claims written before the node caught up carry vectors that miss what peers held; once it
  // has caught up, restamping makes them count everything seen, so that a restored claim
  // never looks older than an instance another node took over meanwhile (DESIGN.md, Ownership).
  const ready = gossip.ready.then(() => publish(registry.restamp()))

  return {
    peerId: host.peerId,
    get addresses() {
      return gossip.addresses
    },
    ready,
    register,
    deregister,
    ttl(instanceId, checkId, report, note) {
      running()
      runner.ttlUpdate(instanceId, checkId, report, note)
    },
    checks: (instanceId) => runner.checks(instanceId),
    ...agentReads(registry, running),
    members() {
      running()
      return gossip.members()
    },
    stats(): AgentStats {
      running()
      const peers: Record<MemberState, number> = { alive: 0, suspect: 0, dead: 0, left: 0 }
      for (const member of gossip.members()) peers[member.state]++
      return {
        claims: registry.replica.size,
        instances: registry.instanceCount,
        conflicts: registry.conflicts().length,
        conflictsSeen: registry.conflictsSeen,
        peers,
        ...gossip.stats(),
      }
    },
    async leave() {
      running()
      await shutDown(true)
    },
    stop: () => shutDown(false),
  }
}
