import { hostname } from 'node:os'
import { join } from 'node:path'
import {
  type AgentStats,
  AgentStoppedError,
  agentReads,
  createRegistryNode,
  type Delta,
  type InstanceCheck,
  LIMITS,
  type MemberState,
  NotFoundError,
  REGISTRATION_FIELDS,
  type Registration,
  resolveTimings,
  truncateText,
  validateNodeName,
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
import {
  CHECK_DEFAULTS,
  type CheckDefinition,
  type CheckInfo,
  createCheckRunner,
  validateChecks,
} from './checks/index.js'
import { type DataDir, IDENTITY_FILE, openDataDir, REGISTRATIONS_FILE } from './data-dir.js'
import { DataDirCorruptError } from './data-dir-errors.js'
import { createRegistrationStore } from './registration-store.js'

async function loadIdentity(dataDir: DataDir | undefined): Promise<PrivateKey> {
  const stored = await dataDir?.readIdentity()
  if (stored !== undefined) {
    try {
      return unmarshalPrivateKey(stored)
    } catch (err) {
      throw new DataDirCorruptError(
        join(dataDir!.path, IDENTITY_FILE),
        `not a private key (${(err as Error).message})`,
      )
    }
  }
  const key = await generatePrivateKey()
  await dataDir?.writeIdentity(marshalPrivateKey(key))
  return key
}

/** The host name, cut to its first label when the whole does not fit a node name. */
function defaultNodeName(): string {
  const host = hostname()
  try {
    return validateNodeName(host)
  } catch {
    const label =
      host
        .split('.')[0]
        ?.replace(/[^A-Za-z0-9-]/g, '')
        .slice(0, 63) ?? ''
    return /^[A-Za-z0-9]/.test(label) ? label : 'node'
  }
}

/** What replicates of an instance's checks: id, name, status and the start of the output. */
function summarize(checks: readonly CheckInfo[] | undefined): InstanceCheck[] {
  // The agent allows as many checks as the wire carries (both 16); the cut keeps a later
  // difference from making every write of the instance fail.
  return (checks ?? []).slice(0, LIMITS.checks).map((check) => ({
    id: check.id,
    name: truncateText(check.name, LIMITS.checkNameLength),
    status: check.status,
    output: truncateText(check.output, LIMITS.checkOutputLength),
  }))
}

/** What register() checked: the registration as stored, and its parts. */
interface CheckedRegistration {
  id: string
  /** Known fields only, with the id: what the data dir keeps. */
  stored: AgentRegistration
  /** Without `checks`: what the registry claims. */
  registration: Registration
  checks: CheckDefinition[]
}

const AGENT_REGISTRATION_FIELDS = [...REGISTRATION_FIELDS, 'checks']

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
  const nodeName = validateNodeName(options.nodeName ?? defaultNodeName())

  const host = await createHost({
    cluster: options.cluster ?? 'default',
    privateKey,
    mdns: options.mdns ?? true,
    // Copies: the options accept readonly arrays (`bootstrap: other.addresses`).
    ...(options.listen && { listen: [...options.listen] }),
    ...(options.announce && { announce: [...options.announce] }),
    ...(options.bootstrap && { bootstrap: [...options.bootstrap] }),
    ...(options.clusterKey !== undefined && { clusterKey: options.clusterKey }),
    ...(options.ipColocationWeight !== undefined && {
      ipColocationWeight: options.ipColocationWeight,
    }),
  })
  const registry = createRegistryNode({
    nodeId: host.peerId,
    signing: host.signing,
    ...(options.limits?.quota !== undefined && { quota: options.limits.quota }),
    ...(options.limits?.maxOrigins !== undefined && { maxOrigins: options.limits.maxOrigins }),
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
      now,
      ...(readyTimeout !== undefined && { readyTimeout }),
      ...(options.faults && { faults: options.faults }),
      nodeName,
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
  const minInterval = options.minCheckInterval ?? CHECK_DEFAULTS.minInterval

  /** Validates everything before anything is written, so bad input changes nothing. */
  function check(input: AgentRegistration): CheckedRegistration {
    const instance = validateRegistration(input, host.peerId, () => crypto.randomUUID(), ['checks'])
    const { checks: checkInput, ...fields } = input
    const checks = validateChecks(checkInput, { minInterval })
    const registration: Registration = { ...fields, id: instance.id }
    const stored: AgentRegistration =
      checkInput === undefined ? registration : { ...registration, checks: checkInput }
    return { id: instance.id, stored, registration, checks }
  }

  // A stored registration that no longer validates is not skipped: the node would announce
  // less than it holds, and the next save would drop it for good. The operator decides.
  const saved: CheckedRegistration[] = []
  const savedFile = dataDir === undefined ? '' : join(dataDir.path, REGISTRATIONS_FILE)
  for (const [index, entry] of ((await dataDir?.readRegistrations()) ?? []).entries()) {
    // Versions before strict validation stored unknown fields (and ignored them): drop them.
    const known =
      typeof entry === 'object' && entry !== null && !Array.isArray(entry)
        ? Object.fromEntries(
            Object.entries(entry).filter(([key]) => AGENT_REGISTRATION_FIELDS.includes(key)),
          )
        : entry
    try {
      saved.push(check(known as AgentRegistration))
    } catch (err) {
      throw new DataDirCorruptError(savedFile, `entry ${index}: ${(err as Error).message}`)
    }
  }
  const store = createRegistrationStore<AgentRegistration>(
    dataDir,
    saved.map((entry) => [entry.id, entry.stored]),
  )

  let stopped = false
  const publish = (delta: Delta | undefined): void => {
    if (delta !== undefined && !stopped) gossip.publish(delta)
  }
  const runner = createCheckRunner(
    {
      ...(options.checkUpdateInterval !== undefined && {
        checkUpdateInterval: options.checkUpdateInterval,
      }),
    },
    {
      // Every change other nodes should see comes through onChecks, aggregate status included.
      onStatus: () => undefined,
      onChecks: (id, status, checks) => publish(registry.setHealth(id, status, summarize(checks))),
      onDeregister: (id) => void deregister(id).catch(() => undefined),
    },
  )

  function running(): void {
    if (stopped) throw new AgentStoppedError()
  }

  /** Claims a checked registration and publishes it; the caller saved it first. */
  function apply({ id, registration, checks }: CheckedRegistration): void {
    // The runner decides the status before the one write: a new instance starts at its checks'
    // initial status, a re-registered one keeps the state of its unchanged checks (no flap).
    const status = checks.length > 0 ? runner.add(id, checks) : undefined
    if (checks.length === 0) runner.remove(id)
    const summaries = summarize(runner.checks(id))
    publish(registry.register({ ...registration, ...(status && { status }) }, summaries).delta)
  }

  // Every write is saved before it is applied, published or acknowledged: if the save fails,
  // the caller gets the error and no peer ever saw the change. Changes apply in call order
  // (the store resolves its writers first in, first out).
  async function register(input: AgentRegistration): Promise<string> {
    running()
    const checked = check(input)
    await store.set(checked.id, checked.stored)
    running()
    apply(checked)
    return checked.id
  }

  async function deregister(id: string): Promise<void> {
    running()
    if (!store.has(id)) throw new NotFoundError(id)
    await store.delete(id)
    running()
    runner.remove(id)
    publish(registry.deregister(id))
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
  for (const entry of saved) apply(entry)
  // Claims written before the node caught up carry vectors that miss what peers held; once it
  // has caught up, restamping makes them count everything seen, so that a restored claim
  // never looks older than an instance another node took over meanwhile (DESIGN.md, Ownership).
  const ready = gossip.ready.then(() => publish(registry.restamp()))

  return {
    peerId: host.peerId,
    nodeName,
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
      // This node is alive; the others are counted from membership directly: `members()` also
      // looks up this node's addresses in libp2p, which made a poll of stats() cost ~0.5 ms.
      const peers: Record<MemberState, number> = { alive: 1, suspect: 0, dead: 0, left: 0 }
      for (const member of gossip.membership.members()) {
        if (member.id !== host.peerId) peers[member.state]++
      }
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
