/**
 * Join sync of a large registry: one node (its own process) registers `instances`
 * instances in bulk; then, `runs` times, a fresh node in a fresh process (loaded and idle
 * before the clock starts, so its CPU is its own) bootstraps to it, and measures from its
 * `createAgent()` call: the TCP connect, the first Grapevine bytes in, `ready`, and holding
 * every instance (`stats().instances`, polled every 5 ms).
 */
import type { AgentHost } from '../support/agent-host.js'
import { type JoinResult, wallNow } from '../support/protocol.js'
import { round, type Summary, summarize } from '../support/stats.js'
import { BASE_OPTIONS, type BenchContext, sleep } from './context.js'

export interface JoinSpec {
  instances: number
  services: number
  runs: number
}

export interface JoinFigures {
  instances: number
  services: number
  /** Bulk registration on the holder, ms. */
  registerMs: number
  holderHeapMB: number
  runs: (JoinResult & {
    fromConnectMs: number | null
    /** CPU the holder spent while this joiner joined, ms. */
    holderCpuMs: number
    /** Cores other processes on the machine used meanwhile. */
    othersCores: number
    /** The holder's heap after this join, MB (without a forced GC). */
    holderHeapAfterMB: number
  })[]
  /** Per run: from createAgent() to holding them all, ms. */
  fromStart: Summary
  /** Per run: from the TCP connect to holding them all, ms. */
  fromConnect: Summary
  ready: Summary
  /** Sync payload received by the joiner, MB. */
  syncMB: number
}

export async function joinSync(ctx: BenchContext, spec: JoinSpec): Promise<JoinFigures> {
  const ledger = ctx.ledger(`join sync of ${spec.instances.toLocaleString('en')} instances`)
  const hosts: AgentHost[] = []
  try {
    const holder = await ctx.spawn('join-holder')
    hosts.push(holder)
    const [agent] = await holder.add(1, BASE_OPTIONS)
    await holder.call('ready')
    const registerMs = await holder.call<number>(
      'registerMany',
      0,
      'bulk',
      spec.instances,
      spec.services,
      1_000,
    )
    ledger.made += spec.instances
    const held = await holder.snapshot()
    if (held.agents[0]!.instances !== spec.instances) {
      throw new Error(`holder shows ${held.agents[0]!.instances} of ${spec.instances} instances`)
    }

    const runs: JoinFigures['runs'] = []
    for (let r = 0; r < spec.runs; r++) {
      const joiner = await ctx.spawn(`join-joiner-${r}`)
      hosts.push(joiner)
      await holder.snapshot() // starts the holder's CPU window
      const result = await joiner.join({
        options: { ...BASE_OPTIONS, bootstrap: agent!.addresses },
        expect: spec.instances,
        timeoutMs: 30_000,
        pollMs: 5,
      })
      const fromConnectMs =
        result.allMs === null || result.tcpConnectedMs === null
          ? null
          : result.allMs - result.tcpConnectedMs
      const holderWindow = await holder.snapshot()
      await sleep(250) // the CPU sampler passes the end of the join
      const end = wallNow() - 250
      const others = ctx.cpu.between(end - (result.allMs ?? holderWindow.spanMs), end).others
      runs.push({
        ...result,
        fromConnectMs,
        holderCpuMs: round(holderWindow.cpuMs, 0),
        othersCores: round(others, 2),
        holderHeapAfterMB: round(holderWindow.heapMB, 0),
      })
      if (result.held < spec.instances) {
        ledger.lost += spec.instances - result.held
        ledger.notes.push(`joiner ${r} held ${result.held} of ${spec.instances} after 30 s`)
      }
      await joiner.close()
    }
    const done = (pick: (run: JoinFigures['runs'][number]) => number | null) =>
      summarize(
        runs.map(pick).filter((x): x is number => x !== null),
        0,
      )
    return {
      instances: spec.instances,
      services: spec.services,
      registerMs: round(registerMs, 0),
      holderHeapMB: round(held.heapMB, 0),
      runs: runs.map((run) => ({
        ...run,
        createdMs: round(run.createdMs),
        tcpConnectedMs: run.tcpConnectedMs === null ? null : round(run.tcpConnectedMs),
        firstBytesMs: run.firstBytesMs === null ? null : round(run.firstBytesMs),
        readyMs: run.readyMs === null ? null : round(run.readyMs),
        allMs: run.allMs === null ? null : round(run.allMs),
        fromConnectMs: run.fromConnectMs === null ? null : round(run.fromConnectMs),
        cpuMs: round(run.cpuMs, 0),
      })),
      fromStart: done((run) => run.allMs),
      fromConnect: done((run) => run.fromConnectMs),
      ready: done((run) => run.readyMs),
      syncMB: round((runs[0]?.bytesIn ?? 0) / 1024 / 1024, 1),
    }
  } finally {
    await Promise.all(hosts.map((host) => host.close()))
  }
}
