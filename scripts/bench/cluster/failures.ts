/**
 * One agent per process, N processes: idle traffic, kill -9 and SIGSTOP.
 *
 * - Idle: the converged cluster sits for `idleMs`; per node, the deltas of `agent.stats()`
 *   bytesIn/bytesOut (Grapevine's message payloads) and of the process's TCP socket bytes
 *   (everything libp2p sends: Noise, Yamux, gossipsub control and duplicates, identify, ping).
 * - kill -9: SIGKILL one node; the time until every other node's `events()` stream reported
 *   the delete of each of its instances. Then a fresh node takes its place.
 * - SIGSTOP: the same with a node that goes silent without closing its connections; it is
 *   SIGKILLed once measured.
 *
 * The seed (slot 0) is never the victim, so replacements always have a bootstrap address.
 * Victims rotate over the other slots. Before each run the cluster is converged again: every
 * node shows every instance and every process has a TCP connection to each other node.
 */
import { spawn } from 'node:child_process'
import type { AgentHost } from '../support/agent-host.js'
import { wallNow } from '../support/protocol.js'
import { coresBusy, machineCpu, round, type Summary, summarize } from '../support/stats.js'
import {
  BASE_OPTIONS,
  type BenchContext,
  type ContendedSummary,
  contended,
  keysOf,
  type Ledger,
  missingIds,
  sleep,
  waitForMembership,
  waitUntil,
} from './context.js'

export interface FailureSpec {
  nodes: number
  instancesPerNode: number
  idleMs: number
  kills: number
  /** kill -9 of a node 1 s after it joined (ready), instances registered. */
  freshKills: number
  stops: number
  /** After the runs: two busy-loop processes for this long; live nodes declared dead are counted. */
  hogMs?: number
}

export interface FailureRuns {
  runs: number
  /** Per run: until the last other node hid the victim's instances, ms. */
  everywhere: ContendedSummary
  /** Per (run, other node): until that node hid them, ms. */
  perObserver: Summary
  /** Per run: until the first other node hid them, ms. */
  first: Summary
  /** Runs where some node still showed the victim's instances at the deadline. */
  incomplete: number
  /** Delete causes reported. */
  causes: Record<string, number>
  /** (instance, node) pairs where a victim's instance was deleted before its signal. */
  earlyDeletes: number
}

export interface IdleFigures {
  seconds: number
  /** Per node per second. */
  appBytesIn: Summary
  appBytesOut: Summary
  wireBytesIn: Summary
  wireBytesOut: Summary
  udpBytesIn: Summary
  udpBytesOut: Summary
  appMessagesIn: Summary
  appMessagesOut: Summary
  cpuPercent: Summary
  openSockets: Summary
  /** Cores busy machine-wide during the window (ours and everyone else's). */
  machineCoresBusy: number
  /** Of which the cluster's processes. */
  ourCores: number
}

export interface HogFigures {
  seconds: number
  /** Instances of live nodes deleted (cause expired or left) on some node during the hog. */
  falseDeletes: number
  /** Distinct live nodes whose instances some node hid during the hog. */
  nodesDeclaredDead: number
  /** Cores busy machine-wide during the hog. */
  machineCoresBusy: number
}

export interface FailureResult {
  nodes: number
  instancesPerNode: number
  idle: IdleFigures
  kill: FailureRuns
  /** kill -9 one second after the victim joined. */
  freshKill: FailureRuns
  stop: FailureRuns
  /** After SIGCONT: until every other node shows the stopped node's instances again, ms. */
  resume: Summary
  /** Resumed nodes not shown everywhere again within the deadline. */
  resumeIncomplete: number
  hog: HogFigures | undefined
  /** Registrations of a fresh node (right after `ready`) until every node saw them, ms. */
  freshRegistration: Summary
  /** Fully connected (each process ≥ nodes − 1 TCP sockets) before every run. */
  agreedBeforeRuns: boolean
}

const SERVICE = 'bench-fail'
const GONE_DEADLINE_MS = 10_000

export async function failures(ctx: BenchContext, spec: FailureSpec): Promise<FailureResult> {
  const ledger = ctx.ledger(`kill -9 / SIGSTOP, ${spec.nodes} processes`)
  const slots: AgentHost[] = []
  const owned = new Map<AgentHost, string[]>()
  const fresh: number[] = []
  let generation = 0
  let agreedBeforeRuns = true
  const resumed: number[] = []
  let resumeIncomplete = 0

  const live = () => slots.filter((host) => host.alive)

  /** Starts a node for slot `slot`, registers its instances, waits until everyone has them. */
  async function fill(slot: number, host: AgentHost): Promise<void> {
    const seed = slot === 0 ? undefined : slots[0]!.agents[0]!
    await host.add(
      1,
      seed === undefined ? BASE_OPTIONS : { ...BASE_OPTIONS, bootstrap: seed.addresses },
    )
    await host.call('ready')
    await host.call('track', SERVICE)
    slots[slot] = host
  }

  async function registerAll(hosts: AgentHost[], measure: boolean): Promise<void> {
    const pending: { id: string; t0: number }[] = []
    await Promise.all(
      hosts.map(async (host) => {
        const ids: string[] = []
        for (let j = 0; j < spec.instancesPerNode; j++) {
          const id = `${host.label}-i${j}`
          const result = await host.register(0, {
            id,
            name: SERVICE,
            version: 'v1.0.0',
            endpoints: [`http://10.2.${slots.indexOf(host)}.${j}:8080`],
            metadata: { bench: 'failures' },
          })
          ledger.made++
          ids.push(id)
          pending.push({ id, t0: ctx.toLocal(host.label, result.t0) })
        }
        owned.set(host, ids)
      }),
    )
    const keys = keysOf(live())
    const ok = await ctx.log.waitFor(
      () => pending.every(({ id }) => ctx.log.addedEverywhere(id, keys)),
      GONE_DEADLINE_MS,
    )
    if (!ok) ledger.late += pending.filter(({ id }) => !ctx.log.addedEverywhere(id, keys)).length
    if (measure) {
      for (const { id, t0 } of pending) {
        const seen = ctx.log.adds.get(id)
        if (seen !== undefined && keys.every((key) => seen.has(key))) {
          fresh.push(Math.max(...[...seen.values()].map((s) => s.t - t0)))
        }
      }
    }
  }

  /** Every node shows every live instance, and every process has a socket to each other node. */
  async function converge(): Promise<void> {
    const expected = live().flatMap((host) => owned.get(host) ?? [])
    const shown = await waitUntil(
      async () => (await missingIds(live(), SERVICE, expected)).size === 0,
      15_000,
      100,
    )
    if (!shown) ledger.notes.push('a node lacked some instances when a run started')
    // Each node holds a bounded set of connections (the peer keeper), so "converged" is
    // membership's: every node sees every live node alive, and none suspect.
    const agreed = await waitUntil(
      async () => {
        const snaps = await Promise.all(live().map((host) => host.snapshot()))
        const n = live().length
        return snaps.every((snap) => snap.agents.every((a) => a.alive === n && a.suspect === 0))
      },
      15_000,
      100,
    )
    if (!agreed) agreedBeforeRuns = false
    await sleep(1_000)
  }

  async function replace(slot: number, measure: boolean): Promise<void> {
    const host = await ctx.spawn(`fail-n${slot}-g${++generation}`)
    await fill(slot, host)
    await registerAll([host], measure)
  }

  /**
   * The figures of a series of runs: each `signal()` signals a victim and waits until every
   * observer hid each of its instances, timing each observer from the signal.
   */
  function goneSeries() {
    const everywhere: { t0: number; ms: number }[] = []
    const perObserver: number[] = []
    const first: number[] = []
    const causes: Record<string, number> = {}
    let incomplete = 0
    let earlyDeletes = 0
    return {
      async signal(
        victim: AgentHost,
        signal: 'SIGKILL' | 'SIGSTOP',
        victimIds: readonly string[],
        observers: readonly string[],
      ): Promise<void> {
        // A delete before the signal is a live node declared dead (or a flap): counted, and
        // the run times only what comes after the signal.
        const early = ctx.log.deletesSeen(victimIds, observers)
        if (early > 0) earlyDeletes += early
        const t0 = wallNow()
        const signalled = victim.signal(signal)
        const gone = await ctx.log.waitFor(
          () => ctx.log.deletedEverywhere(victimIds, observers, t0),
          GONE_DEADLINE_MS,
        )
        await signalled
        if (!gone) {
          incomplete++
          return
        }
        const times = observers.map((key) =>
          Math.max(
            ...victimIds.map((id) => {
              const sighting = ctx.log.deletes.get(id)!.get(key)!
              causes[sighting.cause] = (causes[sighting.cause] ?? 0) + 1
              return sighting.t - t0
            }),
          ),
        )
        everywhere.push({ t0, ms: Math.max(...times) })
        first.push(Math.min(...times))
        perObserver.push(...times)
      },
      async figures(runs: number): Promise<FailureRuns> {
        await sleep(250) // the CPU sampler passes the last run
        return {
          runs,
          everywhere: contended(
            everywhere.map(({ t0, ms }) => ({ ms, cpu: ctx.cpu.between(t0, t0 + ms) })),
          ),
          perObserver: summarize(perObserver),
          first: summarize(first),
          incomplete,
          causes,
          earlyDeletes,
        }
      },
    }
  }

  async function run(signal: 'SIGKILL' | 'SIGSTOP', runs: number, firstVictim: number) {
    const series = goneSeries()
    for (let r = 0; r < runs; r++) {
      const slot = 1 + ((firstVictim + r) % (spec.nodes - 1))
      const victim = slots[slot]!
      const victimIds = owned.get(victim)!
      const observers = keysOf(live().filter((host) => host !== victim))
      await series.signal(victim, signal, victimIds, observers)
      if (signal === 'SIGSTOP') {
        const t1 = wallNow()
        await victim.signal('SIGCONT')
        const backEverywhere = () =>
          victimIds.every((id) => {
            const back = ctx.log.readds.get(id)
            return back !== undefined && observers.every((key) => (back.get(key)?.t ?? 0) >= t1)
          })
        const back = await ctx.log.waitFor(backEverywhere, GONE_DEADLINE_MS)
        if (back) {
          resumed.push(
            Math.max(
              ...victimIds.flatMap((id) =>
                observers.map((key) => ctx.log.readds.get(id)!.get(key)!.t - t1),
              ),
            ),
          )
        } else {
          resumeIncomplete++
        }
        const killedAt = wallNow()
        await victim.signal('SIGKILL')
        await ctx.log.waitFor(
          () => ctx.log.deletedEverywhere(victimIds, observers, killedAt),
          GONE_DEADLINE_MS,
        )
      }
      await victim.exited
      // Still shown anywhere after the delete events? (That would be a flap.)
      const views = await Promise.all(live().map((host) => host.call<string[][]>('ids', SERVICE)))
      const shownAfter = views.flat(2).filter((id) => victimIds.includes(id)).length
      if (shownAfter > 0)
        ledger.notes.push(`${signal} run ${r}: victim instances still shown after the run`)
      owned.delete(victim)
      await replace(slot, true)
      await converge()
    }
    return series.figures(runs)
  }

  /** A node joins (an extra slot), registers, and is SIGKILLed 1 s after it was ready. */
  async function runFresh(runs: number) {
    const series = goneSeries()
    for (let r = 0; r < runs; r++) {
      const slot = spec.nodes
      const host = await ctx.spawn(`fail-fresh-g${++generation}`)
      await host.add(1, { ...BASE_OPTIONS, bootstrap: slots[0]!.agents[0]!.addresses })
      await host.call('ready')
      const readyAt = wallNow()
      await host.call('track', SERVICE)
      slots[slot] = host
      await registerAll([host], true)
      const victimIds = owned.get(host)!
      await sleep(Math.max(0, readyAt + 1_000 - wallNow()))
      const observers = keysOf(live().filter((other) => other !== host))
      await series.signal(host, 'SIGKILL', victimIds, observers)
      owned.delete(host)
      slots.length = spec.nodes
      await sleep(1_000)
    }
    return series.figures(runs)
  }

  /** Two busy loops on the machine's cores; counts live nodes' instances hidden meanwhile. */
  async function hog(ms: number): Promise<HogFigures> {
    const liveIds = new Set(live().flatMap((host) => owned.get(host) ?? []))
    const idToHost = new Map<string, string>()
    for (const host of live()) for (const id of owned.get(host) ?? []) idToHost.set(id, host.label)
    const from = ctx.log.deleteLog.length
    const cpuBefore = machineCpu()
    const hogs = [0, 1].map(() =>
      spawn(
        process.execPath,
        ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end) {}`],
        {
          stdio: 'ignore',
        },
      ),
    )
    await Promise.all(hogs.map((child) => new Promise((resolve) => child.on('exit', resolve))))
    // Let anything declared at the very end surface.
    await sleep(2_000)
    const cpuAfter = machineCpu()
    const wrong = ctx.log.deleteLog.slice(from).filter((entry) => liveIds.has(entry.id))
    return {
      seconds: ms / 1000,
      falseDeletes: wrong.length,
      nodesDeclaredDead: new Set(wrong.map((entry) => idToHost.get(entry.id))).size,
      machineCoresBusy: coresBusy(cpuBefore, cpuAfter),
    }
  }

  try {
    // The seed first, then the others in parallel, each in its own process.
    const spawned = await Promise.all(
      Array.from({ length: spec.nodes }, (_, i) => ctx.spawn(`fail-n${i}-g0`)),
    )
    await fill(0, spawned[0]!)
    await Promise.all(spawned.slice(1).map((host, i) => fill(i + 1, host)))
    await waitForMembership(slots, spec.nodes, 30_000)
    await registerAll(slots, false)
    await converge()

    // Idle: a little more settling, then the window.
    await sleep(2_000)
    const before = await Promise.all(slots.map((host) => host.snapshot()))
    const cpuBefore = machineCpu()
    await sleep(spec.idleMs)
    const cpuAfter = machineCpu()
    const after = await Promise.all(slots.map((host) => host.snapshot()))
    const idle = idleFigures(before, after, coresBusy(cpuBefore, cpuAfter))

    const kill = await run('SIGKILL', spec.kills, 0)
    const freshKill = await runFresh(spec.freshKills)
    const stop = await run('SIGSTOP', spec.stops, spec.kills)
    const hogged = spec.hogMs === undefined ? undefined : await hog(spec.hogMs)

    // Lost registrations: every instance of a live node must be shown by every live node.
    const expected = live().flatMap((host) => owned.get(host) ?? [])
    const missing = await missingIds(live(), SERVICE, expected)
    countLost(ledger, missing, live().length)

    return {
      nodes: spec.nodes,
      instancesPerNode: spec.instancesPerNode,
      idle,
      kill,
      freshKill,
      stop,
      resume: summarize(resumed),
      resumeIncomplete,
      hog: hogged,
      freshRegistration: summarize(fresh),
      agreedBeforeRuns,
    }
  } finally {
    await Promise.all(slots.map((host) => host.close()))
  }
}

function countLost(ledger: Ledger, missing: Set<string>, nodes: number): void {
  ledger.lost = missing.size
  if (missing.size > 0) {
    ledger.notes.push(`not shown on all ${nodes} live nodes at the end: ${[...missing].join(', ')}`)
  }
}

function idleFigures(
  before: Awaited<ReturnType<AgentHost['snapshot']>>[],
  after: Awaited<ReturnType<AgentHost['snapshot']>>[],
  machineCoresBusy: number,
): IdleFigures {
  const perSecond = (pick: (i: number) => number) =>
    summarize(
      after.map((snap, i) => (pick(i) * 1000) / (snap.t - before[i]!.t)),
      0,
    )
  const agent = (snaps: typeof before, i: number) => snaps[i]!.agents[0]!
  const seconds = (after[0]!.t - before[0]!.t) / 1000
  return {
    seconds: round(seconds, 1),
    appBytesIn: perSecond((i) => agent(after, i).bytesIn - agent(before, i).bytesIn),
    appBytesOut: perSecond((i) => agent(after, i).bytesOut - agent(before, i).bytesOut),
    wireBytesIn: perSecond((i) => after[i]!.wire.read - before[i]!.wire.read),
    wireBytesOut: perSecond((i) => after[i]!.wire.written - before[i]!.wire.written),
    udpBytesIn: perSecond((i) => after[i]!.wire.udpRead - before[i]!.wire.udpRead),
    udpBytesOut: perSecond((i) => after[i]!.wire.udpWritten - before[i]!.wire.udpWritten),
    appMessagesIn: perSecond((i) => agent(after, i).messagesIn - agent(before, i).messagesIn),
    appMessagesOut: perSecond((i) => agent(after, i).messagesOut - agent(before, i).messagesOut),
    cpuPercent: summarize(
      after.map((snap) => (100 * snap.cpuMs) / snap.spanMs),
      1,
    ),
    openSockets: summarize(
      after.map((snap) => snap.wire.openSockets),
      0,
    ),
    machineCoresBusy,
    ourCores: round(
      after.reduce((sum, snap) => sum + snap.cpuMs / snap.spanMs, 0),
      2,
    ),
  }
}
