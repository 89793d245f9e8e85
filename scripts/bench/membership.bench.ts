/**
 * Membership benchmark, by simulation: the pure SWIM state machine of packages/core run in
 * the discrete-event simulator (packages/core/test/sim/membership-sim.ts) at 100, 1,000 and
 * 10,000 nodes with the `lan` profile. Per size it reports:
 * - messages each node sends and receives per protocol period, idle (the load that should
 *   stay flat as the cluster grows);
 * - for a node that falls silent (no connection reset: the classic SWIM case), the time to
 *   the first suspicion anywhere, to the first DEAD, and until every live node holds it
 *   dead, with dissemination by piggyback only (SWIM's promise: O(log n) periods) and with
 *   the flood the real system adds (records published on the topic);
 * - with 1% message loss, false suspicions and false DEADs per node per hour.
 *
 * `npm run bench:membership` (`--quick`: 100 and 1,000 only; `--sizes=100,1000`). Prints a
 * table with the goals and writes reports/bench-membership.{json,md}. Not a test.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
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
const crashesPer = (n: number): number => (n >= 10_000 ? 2 : quick ? 2 : 5)

interface CrashFigures {
  firstSuspectMs: number
  firstDeadMs: number
  everywhereMs: number | null
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
  // Coarse steps keep the per-step check of 10,000 observers cheap.
  const step = n >= 10_000 ? 250 : 50
  const everywhere = sim.runUntilTrue(limit, () => sim.everyoneSees(victim, 'dead'), step)
  return {
    firstSuspectMs: (firstOf('suspect') ?? Number.NaN) - start,
    firstDeadMs: (firstOf('dead') ?? Number.NaN) - start,
    everywhereMs: everywhere ?? null,
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
  const ms = n >= 10_000 ? 20_000 : n >= 1_000 ? 60_000 : 300_000
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

const results: SizeResult[] = []
for (const n of sizes) {
  const started = performance.now()
  console.error(`membership: ${n} nodes…`)
  const load = steadyLoad(n)
  const piggyback: CrashFigures[] = []
  const flooded: CrashFigures[] = []
  for (let i = 0; i < crashesPer(n); i++) {
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
const crashCell = (figures: CrashFigures[], key: keyof CrashFigures): string =>
  fmt(median(figures.map((f) => f[key] ?? Number.POSITIVE_INFINITY)))
const base = results[0]
const rows = results.map((r) => {
  const ratio = base === undefined ? 1 : r.sentPerNodePerPeriod / base.sentPerNodePerPeriod
  const spread = median(r.piggyback.map((f) => (f.everywhereMs ?? Number.NaN) - f.firstDeadMs))
  return `| ${r.n.toLocaleString('en')} | ${r.log10n} | ${r.sentPerNodePerPeriod} / ${r.receivedPerNodePerPeriod} | ${ratio.toFixed(2)}× | ${fmt(r.minSuspicionMs)} | ${crashCell(r.piggyback, 'firstSuspectMs')} | ${crashCell(r.piggyback, 'firstDeadMs')} | ${crashCell(r.piggyback, 'everywhereMs')} (${(spread / T.probeInterval).toFixed(1)} periods after the first DEAD) | ${crashCell(r.flooded, 'everywhereMs')} | ${r.falseSuspicionsPerNodeHour} / ${r.falseDeadsPerNodeHour} |`
})
const markdown = `# Membership benchmark (simulated SWIM + Lifeguard)

${new Date().toISOString()} · Node ${process.version} · profile \`lan\` (probe every ${T.probeInterval} ms,
timeout ${T.probeTimeout} ms, ${T.indirectChecks} indirect, suspicion ${T.suspicionMult}·log10(n) periods ×${T.suspicionMaxMult} unconfirmed).
Network: 0.2–1.2 ms delay, no loss (1% for the last column). A crash is a node falling silent
(no connection reset). Medians over ${sizes.map((n) => `${crashesPer(n)} crashes at ${n}`).join(', ')}.

Goals: load per node flat in n (ratio ≈ 1×); dissemination (first DEAD → every node) growing
with log n; false DEADs at 1% loss ≈ 0.

| nodes | log10 n | msgs sent / received per node per period | load vs smallest | min suspicion | first suspicion | first DEAD | DEAD everywhere, piggyback only | DEAD everywhere, with flood | 1% loss: false suspicions / false DEADs per node-hour |
|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Wall time: ${results.map((r) => `${r.n}: ${r.wallSeconds} s`).join(', ')}.
`
mkdirSync('reports', { recursive: true })
writeFileSync(
  'reports/bench-membership.json',
  `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`,
)
writeFileSync('reports/bench-membership.md', markdown)
console.log(markdown)
