/**
 * Cluster benchmark: real agents on 127.0.0.1, in child processes driven over stdin/stdout
 * (scripts/bench/support). Figures, with the goals of the issue:
 * - register → visible on every node, p50/p99, for 3, 10 and 30 nodes (all agents in one
 *   process, 30 also as 3 processes × 10, and one agent per process at 10, 30 and 50);
 *   goal p99 ≤ 20 ms at 10 processes, ≤ 50 ms at 30, counting registrations right after join;
 * - per failure size (10, 30, 50 processes): idle CPU per process (≤ 1% of a core) and bytes
 *   per node (30 within 1.5× of 10); kill -9 → gone everywhere, steady and 1 s after join
 *   (p99 ≤ 1 s); SIGSTOP → gone everywhere (≤ 3 s) and SIGCONT → back (≤ 1 s);
 * - at the largest size, two CPU hogs for 2 minutes: live nodes declared dead (goal 0);
 * - join sync of 100k instances by a fresh node; < 3 s;
 * - lost registrations, across all of the above: must be 0.
 *
 * Run with `node --expose-gc --import tsx scripts/bench/cluster.bench.ts` (`pnpm
 * bench:cluster`). `--quick` runs fewer repetitions (for trying changes, not for figures);
 * `--only=propagation,failures,hog,join` runs a subset, `--configs=3,10,10p,30,30p,30x1,50x1`
 * some propagation clusters, `--nodes=10,30,50` the failure scenario's sizes (the largest
 * also runs the CPU hog), `--gap=50-150` sets the random pause between registrations (ms),
 * `--join-runs=15` the number of fresh joiners of the join scenario (3 by default).
 * `BENCH_HOST_NODE_ARGS` adds node flags to every agent process (e.g. `--cpu-prof`), and
 * `BENCH_ECHO=1` passes what they print outside the protocol (e.g. `--trace-gc`) to stderr. Prints the figures and writes
 * reports/bench-cluster.json and reports/bench-cluster.md. Not a test: a missed goal is
 * reported, not failed. Every scenario is bounded; all child processes are SIGKILLed on
 * exit, error, SIGINT and SIGTERM, and a run stopped early still writes the report of the
 * scenarios that finished.
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
const WATCHDOG_MS = 80 * 60_000
const HOST_LIFETIME_MS = 85 * 60_000

const ctx = new BenchContext(quick, HOST_LIFETIME_MS)
const phases: Phase[] = []
const started = performance.now()
const loadStart = load()
const propagationResults: PropagationResult[] = []
const failureResults: FailureResult[] = []
let joinResult: JoinFigures | undefined
let failed: Error | undefined

process.on('exit', killAllHostsNow)
/** Stops every agent process and writes the report of the scenarios that finished. */
function abort(reason: string, exitCode: number): void {
  console.error(`\n${reason}: stopping every agent process`)
  failed ??= new Error(`${reason}: the report holds the scenarios that finished`)
  void killAllHosts().finally(() => {
    writeReport()
    process.exit(exitCode)
  })
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => abort(signal, 130))
const watchdog = setTimeout(
  () => abort(`still running after ${WATCHDOG_MS / 60_000} min`, 2),
  WATCHDOG_MS,
)

const configsArg = process.argv.find((arg) => arg.startsWith('--configs='))
const configs = configsArg === undefined ? undefined : new Set(configsArg.slice(10).split(','))
const nodesArg = process.argv.find((arg) => arg.startsWith('--nodes='))
/** Cluster sizes of the failure scenario (idle, kill -9, SIGSTOP), one agent per process. */
const failureSizes = nodesArg?.slice(8).split(',').map(Number) ?? [10, 30, 50]
/** The size that also runs the CPU hog (`--only=...,hog`). */
const hogNodes = Math.max(...failureSizes)
const hogArg = process.argv.find((arg) => arg.startsWith('--hog='))
/** Seconds of the CPU hog (`--hog=120`). */
const hogSeconds = hogArg === undefined ? (quick ? 20 : 120) : Number(hogArg.slice(6))
const gapArg = process.argv.find((arg) => arg.startsWith('--gap='))
const joinRunsArg = process.argv.find((arg) => arg.startsWith('--join-runs='))
const gapMs = (gapArg?.slice(6).split('-').map(Number) ?? [50, 150]) as [number, number]

/** `key` selects configurations with `--configs=3,10,10p,30,30p,30x1,50x1`. */
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
  {
    key: '30x1',
    label: '30 nodes, 30 processes x 1',
    processes: 30,
    agentsPerProcess: 1,
    registrations: 150,
  },
  {
    key: '50x1',
    label: '50 nodes, 50 processes x 1',
    processes: 50,
    agentsPerProcess: 1,
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

try {
  if (runs('propagation')) {
    for (const spec of propagationSpecs) {
      propagationResults.push(
        await phase(phases, `register → everywhere, ${spec.label}`, () => propagation(ctx, spec)),
      )
    }
  }
  if (runs('failures')) {
    for (const nodes of failureSizes) {
      const hogMs = nodes === hogNodes && runs('hog') ? hogSeconds * 1000 : undefined
      failureResults.push(
        await phase(phases, `idle, kill -9, SIGSTOP (${nodes} processes)`, () =>
          failures(ctx, {
            nodes,
            instancesPerNode: 3,
            idleMs: 10_000,
            kills: quick ? 3 : nodes >= 50 ? 5 : 10,
            freshKills: quick ? 2 : nodes >= 50 ? 3 : 5,
            stops: quick ? 2 : nodes >= 50 ? 3 : 5,
            ...(hogMs !== undefined && { hogMs }),
          }),
        ),
      )
    }
  }
  if (runs('join')) {
    joinResult = await phase(phases, 'join sync', () =>
      joinSync(ctx, {
        instances: quick ? 20_000 : 100_000,
        services: quick ? 2_000 : 10_000,
        runs: joinRunsArg === undefined ? (quick ? 1 : 3) : Number(joinRunsArg.slice(12)),
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

writeReport()
process.exitCode = failed === undefined ? 0 : 1

function writeReport(): void {
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
      registerEverywhereP99At10NodesMs: 20,
      registerEverywhereP99At30NodesMs: 50,
      killGoneEverywhereP99Ms: 1_000,
      stopGoneEverywhereP99Ms: 3_000,
      resumeEverywhereP99Ms: 1_000,
      idleCpuPercentPerProcess: 1,
      idleBytesRatio30To10: 1.5,
      hogFalseDeaths: 0,
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
    failures: failureResults,
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
}
