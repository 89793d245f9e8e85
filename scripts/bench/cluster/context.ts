import type { AgentOptions } from '@grapevine/agent'
import {
  type AgentHost,
  type ClockOffset,
  clockOffset,
  livePids,
  startHost,
} from '../support/agent-host.js'
import { type CpuSampler, type CpuShare, startCpuSampler } from '../support/cpu-sampler.js'
import { agentKey, EventLog } from '../support/event-log.js'
import {
  coresBusy,
  load,
  machineCpu,
  round,
  type Summary,
  sleep,
  summarize,
  waitUntil,
} from '../support/stats.js'

/** Loopback only, no multicast: every byte of the benchmark stays on 127.0.0.1. */
export const BASE_OPTIONS: AgentOptions = Object.freeze({
  cluster: 'bench',
  listen: ['/ip4/127.0.0.1/tcp/0'],
  mdns: false,
})

/** Registrations of one scenario and what became of them. */
export interface Ledger {
  scenario: string
  /** Registrations made. */
  made: number
  /** Seen by every (surviving) node, but only after the scenario's per-registration deadline. */
  late: number
  /** Never seen by some surviving node, even at the final check. */
  lost: number
  notes: string[]
}

export function newLedger(scenario: string): Ledger {
  return { scenario, made: 0, late: 0, lost: 0, notes: [] }
}

/** What a scenario needs: hosts that report into one event log, and its bounds. */
export class BenchContext {
  readonly log = new EventLog()
  readonly offsets: { label: string; offsetMs: number; rttMs: number }[] = []
  readonly ledgers: Ledger[] = []
  /** CPU use of the benchmark's processes and of everything else, sampled every 100 ms. */
  readonly cpu: CpuSampler = startCpuSampler(livePids)
  private readonly offsetByLabel = new Map<string, number>()
  constructor(
    readonly quick: boolean,
    /** Hard lifetime of every host process, ms. */
    readonly hostLifetimeMs: number,
  ) {}

  /** Starts a host, measures its clock against ours and follows its events. */
  async spawn(label: string): Promise<AgentHost> {
    const host = await startHost(label, this.hostLifetimeMs)
    const offset: ClockOffset = await clockOffset(host)
    this.offsets.push({ label, ...offset })
    this.offsetByLabel.set(label, offset.offsetMs)
    this.log.attach(host, offset)
    return host
  }

  /** A time reported by host `label`, on our clock. */
  toLocal(label: string, t: number): number {
    return t - (this.offsetByLabel.get(label) ?? 0)
  }

  ledger(scenario: string): Ledger {
    const ledger = newLedger(scenario)
    this.ledgers.push(ledger)
    return ledger
  }
}

/** Other work on the machine is "quiet" below this many cores. */
export const QUIET_OTHERS_CORES = 0.25

/** Latencies split by what else ran on the machine meanwhile. */
export interface ContendedSummary {
  all: Summary
  /** Only samples during which other processes used < QUIET_OTHERS_CORES cores. */
  quiet: Summary
  /** Means over the samples' intervals. */
  meanOursCores: number
  meanOthersCores: number
  /** Mean share of time some runnable task waited for a core (CPU pressure, "some"). */
  meanStall: number
}

export function contended(samples: readonly { ms: number; cpu: CpuShare }[]): ContendedSummary {
  const mean = (pick: (s: CpuShare) => number) => {
    const values = samples.map((sample) => pick(sample.cpu)).filter((x) => !Number.isNaN(x))
    return round(values.reduce((a, b) => a + b, 0) / values.length, 2)
  }
  return {
    all: summarize(samples.map((sample) => sample.ms)),
    quiet: summarize(
      samples.filter((sample) => sample.cpu.others < QUIET_OTHERS_CORES).map((sample) => sample.ms),
    ),
    meanOursCores: mean((cpu) => cpu.ours),
    meanOthersCores: mean((cpu) => cpu.others),
    meanStall: mean((cpu) => cpu.stall),
  }
}

/** Every agent key of `hosts`, in order. */
export function keysOf(hosts: readonly AgentHost[]): string[] {
  return hosts.flatMap((host) => host.agents.map((agent) => agentKey(host.label, agent.index)))
}

/**
 * Ids of `name` that some agent of `hosts` does not show, among `expected` (final check of
 * lost registrations: a late arrival still counts as arrived).
 */
export async function missingIds(
  hosts: readonly AgentHost[],
  name: string,
  expected: readonly string[],
): Promise<Set<string>> {
  const missing = new Set<string>()
  for (const host of hosts) {
    const views = await host.call<string[][]>('ids', name)
    for (const view of views) {
      const shown = new Set(view)
      for (const id of expected) if (!shown.has(id)) missing.add(id)
    }
  }
  return missing
}

/** Waits until every agent of `hosts` counts `members` alive members (itself included). */
export async function waitForMembership(
  hosts: readonly AgentHost[],
  members: number,
  timeoutMs: number,
): Promise<boolean> {
  return waitUntil(
    async () => {
      const snaps = await Promise.all(hosts.map((host) => host.snapshot()))
      return snaps.every((snap) => snap.agents.every((agent) => agent.alive >= members))
    },
    timeoutMs,
    100,
  )
}

export interface Phase {
  name: string
  startedAt: string
  seconds: number
  loadStart: [number, number, number]
  loadEnd: [number, number, number]
  /** Cores busy machine-wide over the phase (all processes, ours included). */
  machineCoresBusy: number
}

/** Runs `body`, recording its duration and the load average around it. */
export async function phase<T>(phases: Phase[], name: string, body: () => Promise<T>): Promise<T> {
  const loadStart = load()
  const startedAt = new Date().toISOString()
  const start = performance.now()
  const cpuStart = machineCpu()
  process.stdout.write(`· ${name} … `)
  try {
    return await body()
  } finally {
    const seconds = Number(((performance.now() - start) / 1000).toFixed(1))
    const machineCoresBusy = coresBusy(cpuStart, machineCpu())
    phases.push({ name, startedAt, seconds, loadStart, loadEnd: load(), machineCoresBusy })
    process.stdout.write(
      `${seconds} s (load ${loadStart[0]} → ${load()[0]}, ${machineCoresBusy} cores busy)\n`,
    )
  }
}

export { sleep, waitUntil }
