/**
 * Register → visible on every node. A sparse start (node 0 is the seed, every other node
 * bootstraps to it; the peer keeper then dials up to 16 members it hears of), membership
 * converged and a few seconds of settling, then registrations one at a time from every node
 * in turn. For each, the time from just before `register()` to the add event on each node's
 * `events()` stream (timestamped where it arrives, in that node's process).
 */
import { cpus } from 'node:os'
import { PROFILES } from '../../../packages/core/src/index.js'
import type { AgentHost } from '../support/agent-host.js'
import { coresBusy, machineCpu, round, type Summary, summarize } from '../support/stats.js'
import {
  BASE_OPTIONS,
  type BenchContext,
  type ContendedSummary,
  contended,
  keysOf,
  missingIds,
  sleep,
  waitForMembership,
} from './context.js'

export interface PropagationSpec {
  label: string
  processes: number
  agentsPerProcess: number
  registrations: number
  warmup: number
  settleMs: number
  /** Random pause between registrations, ms: [min, max]. */
  gapMs: [number, number]
  /** The measured registrations stop early after this long (a saturated cluster is slow). */
  budgetMs: number
}

export interface PropagationResult {
  label: string
  nodes: number
  processes: number
  agentsPerProcess: number
  gapMs: [number, number]
  /** Membership converged (every node heard every other) before the deadline. */
  converged: boolean
  /**
   * Per registration: until the last node saw it, ms; also only over registrations during
   * which other work on the machine stayed quiet.
   */
  everywhere: ContendedSummary
  /** Per (registration, other node): until that node saw it, ms. */
  perNode: Summary
  /** Per host during the measured registrations: event-loop utilisation and CPU % of a core. */
  hosts: {
    label: string
    elu: number
    cpuPercent: number
    loopDelayP99Ms: number
    loopDelayMaxMs: number
  }[]
  /**
   * Sync sessions completed during the measured registrations (both ends count one), and
   * what periodic anti-entropy alone accounts for: more means DELTAs were pulled.
   */
  syncSessions: number
  antiEntropySessions: number
  /** Grapevine messages dropped during the window, by reason. */
  dropped: Record<string, number>
  /** Cores busy machine-wide during the measured registrations (ours and everyone else's). */
  machineCoresBusy: number
  /**
   * The cluster could not keep up: some process's event loop was busy ≥ 95% of the time, or
   * the machine's cores were ≥ 90% busy. Latencies then measure queueing for the CPU.
   */
  saturated: boolean
  /** Of which this cluster's processes. */
  ourCores: number
  /** Registrations that some node saw only after the 5 s deadline or never. */
  late: number
  lost: number
  /**
   * Delete events for these instances: nobody deregistered or died, so each is a node that
   * wrongly judged a live node dead (its heartbeats were late) and hid its instances.
   */
  spuriousDeletes: number
  /** Measured registrations made (fewer than asked when the time budget ran out). */
  registrations: number
}

const DEADLINE_MS = 5_000

export async function propagation(
  ctx: BenchContext,
  spec: PropagationSpec,
): Promise<PropagationResult> {
  const { label, processes, agentsPerProcess } = spec
  const nodes = processes * agentsPerProcess
  const ledger = ctx.ledger(`register → everywhere, ${label}`)
  const hosts: AgentHost[] = await Promise.all(
    Array.from({ length: processes }, (_, i) => ctx.spawn(`${label}-p${i}`)),
  )
  try {
    const [seed] = await hosts[0]!.add(1, BASE_OPTIONS)
    const options = { ...BASE_OPTIONS, bootstrap: seed!.addresses }
    await Promise.all(
      hosts.map((host, i) => host.add(i === 0 ? agentsPerProcess - 1 : agentsPerProcess, options)),
    )
    await Promise.all(hosts.map((host) => host.call('ready')))
    const converged = await waitForMembership(hosts, nodes, 30_000)
    if (!converged) ledger.notes.push('membership had not converged after 30 s; measured anyway')
    await sleep(spec.settleMs)

    const service = `prop-${label.replace(/[^A-Za-z0-9]+/g, '-')}`
    await Promise.all(hosts.map((host) => host.call('track', service)))
    let spuriousDeletes = 0
    for (const host of hosts) {
      host.onEvent((event) => {
        if (event.op === 'delete' && event.id.startsWith(`${service}-`)) spuriousDeletes++
      })
    }
    const keys = keysOf(hosts)
    const origins = hosts.flatMap((host) =>
      host.agents.map((agent) => ({ host, index: agent.index })),
    )
    const everywhere: { t0: number; ms: number }[] = []
    const perNode: number[] = []
    const ids: string[] = []
    const lateIds: string[] = []

    const one = async (k: number, measured: boolean): Promise<void> => {
      const origin = origins[k % origins.length]!
      const id = `${service}-${k}`
      ids.push(id)
      const result = await origin.host.register(origin.index, {
        id,
        name: service,
        version: 'v1.0.0',
        endpoints: [`http://10.1.${(k >> 8) & 255}.${k & 255}:8080`],
        metadata: { bench: 'propagation' },
      })
      ledger.made++
      const t0 = ctx.toLocal(origin.host.label, result.t0)
      const seen = await ctx.log.waitFor(() => ctx.log.addedEverywhere(id, keys), DEADLINE_MS)
      if (!seen) {
        lateIds.push(id)
        return
      }
      if (!measured) return
      const times = [...ctx.log.adds.get(id)!.values()].map((s) => s.t - t0)
      everywhere.push({ t0, ms: Math.max(...times) })
      const originKey = `${origin.host.label}/${origin.index}`
      for (const [key, sighting] of ctx.log.adds.get(id)!) {
        if (key !== originKey) perNode.push(sighting.t - t0)
      }
    }

    const [gapMin, gapMax] = spec.gapMs
    const gap = () => sleep(gapMin + Math.random() * (gapMax - gapMin))
    for (let k = 0; k < spec.warmup; k++) {
      await one(k, false)
      await gap()
    }
    const startSnaps = await Promise.all(hosts.map((host) => host.snapshot())) // CPU window
    const cpuBefore = machineCpu()
    const budgetEnd = performance.now() + spec.budgetMs
    let measuredCount = 0
    for (let k = spec.warmup; k < spec.warmup + spec.registrations; k++) {
      if (performance.now() > budgetEnd) {
        ledger.notes.push(`time budget of ${spec.budgetMs / 1000} s ran out after ${measuredCount}`)
        break
      }
      measuredCount++
      await one(k, true)
      // A random gap so that registrations land at every phase of the heartbeat timers.
      await gap()
    }
    const snaps = await Promise.all(hosts.map((host) => host.snapshot()))
    await sleep(250) // the CPU sampler passes the last registration
    const machineCoresBusy = coresBusy(cpuBefore, machineCpu())

    // Late ones get a last chance (anti-entropy runs every ~5 s): lost means never seen.
    let missing = await missingIds(hosts, service, ids)
    if (missing.size > 0) {
      await ctx.log.waitFor(
        () => [...missing].every((id) => ctx.log.addedEverywhere(id, keys)),
        12_000,
      )
      missing = await missingIds(hosts, service, ids)
    }
    ledger.late = lateIds.filter((id) => !missing.has(id)).length
    ledger.lost = missing.size
    if (missing.size > 0) ledger.notes.push(`never seen everywhere: ${[...missing].join(', ')}`)

    return {
      label,
      nodes,
      processes,
      agentsPerProcess,
      gapMs: spec.gapMs,
      converged,
      everywhere: contended(
        everywhere.map(({ t0, ms }) => ({ ms, cpu: ctx.cpu.between(t0, t0 + ms) })),
      ),
      perNode: summarize(perNode),
      hosts: snaps.map((snap, i) => ({
        label: hosts[i]!.label,
        elu: round(snap.elu, 2),
        cpuPercent: round((100 * snap.cpuMs) / snap.spanMs, 0),
        loopDelayP99Ms: round(snap.loopDelayMs.p99, 1),
        loopDelayMaxMs: round(snap.loopDelayMs.max, 1),
      })),
      syncSessions: sum(snaps) - sum(startSnaps),
      // Each agent starts one every syncInterval on average; both ends count it.
      antiEntropySessions: round((2 * nodes * snaps[0]!.spanMs) / PROFILES.lan.syncInterval, 0),
      dropped: droppedDelta(startSnaps, snaps),
      machineCoresBusy,
      saturated: snaps.some((snap) => snap.elu >= 0.95) || machineCoresBusy >= 0.9 * cpus().length,
      ourCores: round(
        snaps.reduce((sum, snap) => sum + snap.cpuMs / snap.spanMs, 0),
        2,
      ),
      late: ledger.late,
      lost: ledger.lost,
      spuriousDeletes,
      registrations: measuredCount,
    }
  } finally {
    await Promise.all(hosts.map((host) => host.close()))
  }
}

type Snapshot = Awaited<ReturnType<AgentHost['snapshot']>>

function sum(snaps: Snapshot[]): number {
  return snaps.reduce((n, snap) => n + snap.agents.reduce((m, a) => m + a.syncSessions, 0), 0)
}

function droppedDelta(before: Snapshot[], after: Snapshot[]): Record<string, number> {
  const total = (snaps: Snapshot[]) => {
    const out: Record<string, number> = {}
    for (const snap of snaps)
      for (const agent of snap.agents)
        for (const [reason, n] of Object.entries(agent.dropped))
          out[reason] = (out[reason] ?? 0) + n
    return out
  }
  const a = total(before)
  const b = total(after)
  return Object.fromEntries(
    Object.entries(b)
      .map(([reason, n]) => [reason, n - (a[reason] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  )
}
