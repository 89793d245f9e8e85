/**
 * Membership benchmark, by simulation: the pure SWIM state machine of packages/core run in
 * the discrete-event simulator (packages/core/test/sim/membership-sim.ts) at 100, 1,000 and
 * 10,000 nodes with the `lan` profile. Per size it reports:
 * - messages each node sends and receives per protocol period, idle (the load that should
 *   stay flat as the cluster grows);
 * - for a node that falls silent (no connection reset: the classic SWIM case), the time to
 *   the first suspicion anywhere, to the first DEAD, and until every live node holds it
 *   dead, with dissemination by piggyback only (SWIM's promise: O(log n) periods) and with
 *   the flood the real system adds (records published on the topic), and how many records
 *   were flooded for the crash;
 * - with 1% message loss, false suspicions and false DEADs per node per hour.
 *
 * `npm run bench:membership` (`--quick`: 100 and 1,000 only; `--sizes=100,1000`). Prints a
 * table with the goals and writes reports/bench-membership.{json,md}. Not a test. Every run is
 * bounded in simulated time (a crash run gives up after 120 s); the whole benchmark takes about
 * 3 minutes on a 2-core machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { SWIM_PROFILES, suspicionTimeout } from '../../packages/core/src/index.js'
import { seededRandom } from '../../packages/core/src/testing/random.js'
import {
  MembershipSim,
  type NetworkModel,
  QUIET_NETWORK,
} from '../../packages/core/test/sim/membership-sim.js'

const T = SWIM_PROFILES.lan
const quick = process.argv.includes('--quick')
const sizesArg = process.argv.find((arg) => arg.startsWith('--sizes='))
const sizes =
  sizesArg?.slice(8).split(',').map(Number) ?? (quick ? [100, 1_000] : [100, 1_000, 10_000])
const crashesPer = (): number => (quick ? 2 : 5)

interface CrashFigures {
  firstSuspectMs: number
  firstDeadMs: number
  everywhereMs: number | null
  /** Records flooded cluster-wide from the crash until every node held it dead. */
  floods: number
}

interface SizeResult {
  n: number
  log10n: number
  sentPerNodePerPeriod: number
  receivedPerNodePerPeriod: number
  bytesNote: string
  minSuspicionMs: number
  piggyback: CrashFigures[]
  flooded: CrashFigures[]
  lossyNodeHours: number
  falseSuspicionsPerNodeHour: number
  falseDeadsPerNodeHour: number
  wallSeconds: number
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN
}

function crash(n: number, seed: number, flood: boolean): CrashFigures {
  const network: NetworkModel = { ...QUIET_NETWORK, flood }
  const sim = new MembershipSim({ size: n, timings: T, network, random: seededRandom(seed) })
  sim.run(3 * T.probeInterval)
  const victim = Math.floor(seededRandom(seed + 1)() * n)
  const id = sim.nodes[victim]!.id
  const start = sim.now
  const floodsBefore = sim.nodes.reduce((sum, node) => sum + node.flooded, 0)
  sim.crash(victim, false)
  const firstOf = (state: string): number | undefined => {
    let first: number | undefined
    for (const node of sim.nodes) {
      for (const [time, member, s] of node.facts) {
        if (member === id && s === state && time >= start) {
          first = first === undefined ? time : Math.min(first, time)
          break
        }
      }
    }
    return first
  }
  const limit = 120_000
  // Checked after every event, in O(1): the time is exact and the run stops at once, before
  // the rest of the cluster's own DEAD floods are delivered.
  sim.watch(victim)
  const everywhere = sim.runUntilEvent(limit, () => sim.seeing('dead') === n - 1)
  return {
    firstSuspectMs: (firstOf('suspect') ?? Number.NaN) - start,
    firstDeadMs: (firstOf('dead') ?? Number.NaN) - start,
    everywhereMs: everywhere ?? null,
    floods: sim.nodes.reduce((sum, node) => sum + node.flooded, 0) - floodsBefore,
  }
}

function steadyLoad(n: number): { sent: number; received: number } {
  const sim = new MembershipSim({
    size: n,
    timings: T,
    network: QUIET_NETWORK,
    random: seededRandom(n),
  })
  sim.run(4 * T.probeInterval)
  const before = sim.nodes.map((node) => [node.sent, node.received] as const)
  const periods = n >= 10_000 ? 20 : 40
  sim.run(periods * T.probeInterval)
  let sent = 0
  let received = 0
  for (const [i, node] of sim.nodes.entries()) {
    sent += node.sent - before[i]![0]
    received += node.received - before[i]![1]
  }
  return { sent: sent / n / periods, received: received / n / periods }
}

function falsePositives(n: number): { nodeHours: number; suspicions: number; deads: number } {
  const network: NetworkModel = { ...QUIET_NETWORK, loss: 0.01 }
  const sim = new MembershipSim({ size: n, timings: T, network, random: seededRandom(n + 7) })
  // At 10,000 the run stays under 15 s, before the first table exchange (every 30 s ±50%):
  // each one materializes all n members on both sides, n² entries cluster-wide.
  const ms = n >= 10_000 ? 14_000 : n >= 1_000 ? 60_000 : 300_000
  sim.run(ms)
  let suspicions = 0
  let deads = 0
  for (const node of sim.nodes) {
    for (const [, , state] of node.facts) {
      if (state === 'suspect') suspicions++
      if (state === 'dead') deads++
    }
  }
  // Facts are per observer: one false suspicion seen by every node counts n times.
  const nodeHours = (n * ms) / 3_600_000
  return { nodeHours, suspicions: suspicions / n, deads: deads / n }
}

const runStarted = performance.now()
const results: SizeResult[] = []
for (const n of sizes) {
  const started = performance.now()
  console.error(`membership: ${n} nodes…`)
  const load = steadyLoad(n)
  const piggyback: CrashFigures[] = []
  const flooded: CrashFigures[] = []
  for (let i = 0; i < crashesPer(); i++) {
    piggyback.push(crash(n, 1_000 + i, false))
    flooded.push(crash(n, 2_000 + i, true))
  }
  const fp = falsePositives(n)
  results.push({
    n,
    log10n: Number(Math.log10(n).toFixed(2)),
    sentPerNodePerPeriod: Number(load.sent.toFixed(2)),
    receivedPerNodePerPeriod: Number(load.received.toFixed(2)),
    bytesNote: 'one PING and one ACK each way, ~100–300 bytes with piggyback',
    minSuspicionMs: suspicionTimeout(T.suspicionMult, n, T.probeInterval),
    piggyback,
    flooded,
    lossyNodeHours: Number(fp.nodeHours.toFixed(2)),
    falseSuspicionsPerNodeHour: Number((fp.suspicions / fp.nodeHours).toFixed(3)),
    falseDeadsPerNodeHour: Number((fp.deads / fp.nodeHours).toFixed(4)),
    wallSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  })
}

const fmt = (ms: number | null): string =>
  ms === null || Number.isNaN(ms) ? '—' : `${(ms / 1000).toFixed(2)} s`
const crashCell = (
  figures: CrashFigures[],
  key: 'firstSuspectMs' | 'firstDeadMs' | 'everywhereMs',
): string => fmt(median(figures.map((f) => f[key] ?? Number.POSITIVE_INFINITY)))
const base = results[0]
/** Periods from the first DEAD until every node holds it, by piggyback only. */
const spreadPeriods = (r: SizeResult): number =>
  median(r.piggyback.map((f) => (f.everywhereMs ?? Number.NaN) - f.firstDeadMs)) / T.probeInterval
const rows = results.map((r) => {
  const ratio = base === undefined ? 1 : r.sentPerNodePerPeriod / base.sentPerNodePerPeriod
  const spread = spreadPeriods(r)
  const floods = median(r.flooded.map((f) => f.floods))
  return `| ${r.n.toLocaleString('en')} | ${r.log10n} | ${r.sentPerNodePerPeriod.toFixed(2)} / ${r.receivedPerNodePerPeriod.toFixed(2)} | ${ratio.toFixed(2)}× | ${fmt(r.minSuspicionMs)} | ${crashCell(r.piggyback, 'firstSuspectMs')} | ${crashCell(r.piggyback, 'firstDeadMs')} | ${crashCell(r.piggyback, 'everywhereMs')} | ${spread.toFixed(1)} | ${(spread / r.log10n).toFixed(2)} | ${crashCell(r.flooded, 'everywhereMs')} | ${floods.toLocaleString('en')} | ${r.falseSuspicionsPerNodeHour} / ${r.falseDeadsPerNodeHour} (${r.lossyNodeHours} node-h) |`
})
const goals = `| goal | | flat in n | ≤ 1.5× | (parameter) | flat in n | first suspicion + min suspicion | | grows with log n | ≈ constant | ≤ 3 s (lan, silent node) | independent of n | ≈ 0 false DEADs |`
const totalSeconds = (performance.now() - runStarted) / 1000
const cpu = cpus()
const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${process.platform} ${process.arch}, Node ${process.version}`
const markdown = `# Membership benchmark (simulated SWIM + Lifeguard)

${new Date().toISOString()} · ${machine} · profile \`lan\` (probe every ${T.probeInterval} ms,
timeout ${T.probeTimeout} ms, ${T.indirectChecks} indirect, suspicion ${T.suspicionMult}·log10(n) periods ×${T.suspicionMaxMult} unconfirmed).
Network: 0.2–1.2 ms delay, no loss (1% for the last column). A crash is a node falling silent
(no connection reset). Medians over ${crashesPer()} crashes per size and mode; the idle load over
${sizes.map((n) => `${n >= 10_000 ? 20 : 40} periods at ${n.toLocaleString('en')}`).join(', ')}.

Columns: messages (PING, ACK, PING-REQ, NACK) each node sends and receives per
protocol period, idle; the crash's first suspicion and first DEAD anywhere, and DEAD on every
live node with dissemination by piggyback only (SWIM's own spread; the periods it took after the
first DEAD, and those periods per log10 n) and with the flood the real system adds (records
published on the gossipsub topic); how many records were flooded cluster-wide for one crash
(each flood is n − 1 copies); and with 1% loss, false suspicions and false DEADs per node-hour.

| nodes | log10 n | msgs sent / received per node per period | load vs smallest | min suspicion | first suspicion | first DEAD | DEAD everywhere, piggyback only | periods first DEAD → everywhere | ÷ log10 n | DEAD everywhere, with flood | records flooded per crash | 1% loss: false suspicions / false DEADs per node-hour |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
${goals}
${rows.join('\n')}

Wall time: ${results.map((r) => `${r.n.toLocaleString('en')}: ${r.wallSeconds} s`).join(', ')}; total ${totalSeconds.toFixed(1)} s.

Not in the idle figures: the table exchange (push-pull, every ${T.pushPullInterval / 1000} s ±50% with one
random member) carries all n members each way, ≈ n/${T.pushPullInterval / T.probeInterval / 2} records per node
per period each way (${sizes.map((n) => `${Math.round(n / (T.pushPullInterval / T.probeInterval / 2))} at ${n.toLocaleString('en')}`).join(', ')}), a cost that grows with n. The idle
windows end before the first exchange; the 1% loss runs at 100 and 1,000 include exchanges, the
one at 10,000 ends before them (each exchange makes both sides hold all n members: n² entries).
`
mkdirSync('reports', { recursive: true })
writeFileSync(
  'reports/bench-membership.json',
  `${JSON.stringify({ date: new Date().toISOString(), machine, totalSeconds, results }, null, 2)}\n`,
)
writeFileSync('reports/bench-membership.md', markdown)
console.log(markdown)
