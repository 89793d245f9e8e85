/**
 * Cluster benchmark: real agents on 127.0.0.1, in child processes driven over stdin/stdout
 * (scripts/bench/support). Figures, with the goals of the issue:
 * - register → visible on every node, p50/p99, for 3, 10 and 30 nodes (all agents in one
 *   process, and 30 also as 3 processes × 10); goal at 10 nodes: p99 < 50 ms;
 * - kill -9 → the node's instances gone on every other node (10 processes); p99 < 1.5 s;
 * - SIGSTOP → gone everywhere; p99 < deadAfter + 0.5 s (lan profile);
 * - join sync of 100k instances by a fresh node; < 3 s;
 * - idle bytes per node per second (10 processes, 10 s);
 * - lost registrations, across all of the above: must be 0.
 *
 * Run with `node --expose-gc --import tsx scripts/bench/cluster.bench.ts` (`pnpm
 * bench:cluster`). `--quick` runs fewer repetitions (for trying changes, not for figures);
 * `--only=propagation,failures,join` runs a subset, `--configs=3,10,10p,30,30p` some
 * propagation clusters, `--gap=50-150` sets the random pause between registrations (ms).
 * `BENCH_HOST_NODE_ARGS` adds node flags to every agent process (e.g. `--cpu-prof`). Prints the figures and writes
 * reports/bench-cluster.json and reports/bench-cluster.md. Not a test: a missed goal is
 * reported, not failed. Every scenario is bounded; all child processes are SIGKILLed on
 * exit, error, SIGINT and SIGTERM.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { arch, cpus, platform, release, totalmem } from 'node:os'
import { PROFILES } from '../../packages/core/src/index.js'
import { BenchContext, type Phase, phase } from './cluster/context.js'
import { type FailureResult, failures } from './cluster/failures.js'
import { type JoinFigures, joinSync } from './cluster/join-sync.js'
import { type PropagationResult, type PropagationSpec, propagation } from './cluster/propagation.js'
import { type ClusterReport, renderMarkdown } from './cluster/report.js'
import { killAllHosts, killAllHostsNow } from './support/agent-host.js'
import { cpuModel, load } from './support/stats.js'

const quick = process.argv.includes('--quick')
const onlyArg = process.argv.find((arg) => arg.startsWith('--only='))
const only = onlyArg === undefined ? undefined : new Set(onlyArg.slice(7).split(','))
const runs = (name: string) => only === undefined || only.has(name)

/** The whole run is bounded; so is every host process (in case this one is SIGKILLed). */
const WATCHDOG_MS = 15 * 60_000
const HOST_LIFETIME_MS = 20 * 60_000

process.on('exit', killAllHostsNow)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping every agent process`)
    void killAllHosts().finally(() => process.exit(130))
  })
}
const watchdog = setTimeout(() => {
  console.error(`cluster benchmark still running after ${WATCHDOG_MS / 60_000} min: aborting`)
  void killAllHosts().finally(() => process.exit(2))
}, WATCHDOG_MS)

const configsArg = process.argv.find((arg) => arg.startsWith('--configs='))
const configs = configsArg === undefined ? undefined : new Set(configsArg.slice(10).split(','))
const gapArg = process.argv.find((arg) => arg.startsWith('--gap='))
const gapMs = (gapArg?.slice(6).split('-').map(Number) ?? [50, 150]) as [number, number]

/** `key` selects configurations with `--configs=3,10,10p,30,30p`. */
const propagationSpecs: PropagationSpec[] = [
  { key: '3', label: '3 nodes, 1 process', processes: 1, agentsPerProcess: 3, registrations: 150 },
  {
    key: '10',
    label: '10 nodes, 1 process',
    processes: 1,
    agentsPerProcess: 10,
    registrations: 300,
  },
  {
    key: '10p',
    label: '10 nodes, 10 processes x 1',
    processes: 10,
    agentsPerProcess: 1,
    registrations: 300,
  },
  {
    key: '30',
    label: '30 nodes, 1 process',
    processes: 1,
    agentsPerProcess: 30,
    registrations: 100,
  },
  {
    key: '30p',
    label: '30 nodes, 3 processes x 10',
    processes: 3,
    agentsPerProcess: 10,
    registrations: 100,
  },
]
  .filter((spec) => configs === undefined || configs.has(spec.key))
  .map(({ key: _key, ...spec }) => ({
    ...spec,
    registrations: quick ? 30 : spec.registrations,
    warmup: 10,
    settleMs: 3_000,
    gapMs,
    budgetMs: spec.processes * spec.agentsPerProcess > 10 ? 45_000 : 60_000,
  }))

const lan = PROFILES.lan
const ctx = new BenchContext(quick, HOST_LIFETIME_MS)
const phases: Phase[] = []
const started = performance.now()
const loadStart = load()
const propagationResults: PropagationResult[] = []
let failureResult: FailureResult | undefined
let joinResult: JoinFigures | undefined
let failed: Error | undefined

try {
  if (runs('propagation')) {
    for (const spec of propagationSpecs) {
      propagationResults.push(
        await phase(phases, `register → everywhere, ${spec.label}`, () => propagation(ctx, spec)),
      )
    }
  }
  if (runs('failures')) {
    failureResult = await phase(phases, 'idle, kill -9, SIGSTOP (10 processes)', () =>
      failures(ctx, {
        nodes: 10,
        instancesPerNode: 3,
        idleMs: 10_000,
        kills: quick ? 3 : 10,
        stops: quick ? 2 : 5,
      }),
    )
  }
  if (runs('join')) {
    joinResult = await phase(phases, 'join sync', () =>
      joinSync(ctx, {
        instances: quick ? 20_000 : 100_000,
        services: quick ? 2_000 : 10_000,
        runs: quick ? 1 : 3,
      }),
    )
  }
} catch (err) {
  failed = err as Error
  console.error(`cluster benchmark failed: ${failed.stack ?? failed.message}`)
} finally {
  await killAllHosts()
  clearTimeout(watchdog)
}

const report: ClusterReport = {
  date: new Date().toISOString(),
  node: process.version,
  machine: {
    description: `${platform()} ${release()} ${arch()}, ${cpus().length} × ${cpuModel()}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
    cpuModel: cpuModel(),
    cores: cpus().length,
  },
  quick,
  loadAverage: { start: loadStart, end: load() },
  durationSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  profile: { name: 'lan', ...lan },
  goals: {
    registerEverywhereP99At10NodesMs: 50,
    killGoneEverywhereP99Ms: 1_500,
    stopGoneEverywhereP99Ms: lan.deadAfter + 500,
    join100kMs: 3_000,
    lostRegistrations: 0,
  },
  clock: {
    method:
      'each process stamps events with performance.timeOrigin + performance.now(); each host clock was compared with the benchmark over the stdin/stdout pipe (min-RTT sample) and the offset removed',
    maxAbsOffsetMs: Math.max(0, ...ctx.offsets.map((o) => Math.abs(o.offsetMs))),
    maxRttMs: Math.max(0, ...ctx.offsets.map((o) => o.rttMs)),
    hosts: ctx.offsets.length,
  },
  propagation: propagationResults,
  failures: failureResult,
  join: joinResult,
  registrations: ctx.ledgers,
  lostTotal: ctx.ledgers.reduce((sum, ledger) => sum + ledger.lost, 0),
  phases,
  error: failed?.message,
}

const markdown = renderMarkdown(report)
mkdirSync('reports', { recursive: true })
writeFileSync('reports/bench-cluster.json', `${JSON.stringify(report, null, 2)}\n`)
writeFileSync('reports/bench-cluster.md', markdown)
console.log(`\n${markdown}`)
process.exitCode = failed === undefined ? 0 : 1
