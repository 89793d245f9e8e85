/**
 * Core benchmark: the resolved view at scale.
 *
 * Builds a replica and view of 100k instances over 10k services (2 endpoints and 3 metadata
 * pairs each), received as validated claims from 100 origins the way a node learns them from
 * the network, then measures:
 * - `getService` latency (median and p99 over many calls, µs), goal median < 2 µs;
 * - heap used for the 100k instances (after a full GC), goal < 120 MB in total.
 *
 * Run with `node --expose-gc --import tsx scripts/bench/core.bench.ts` (`pnpm bench` does);
 * without `--expose-gc` the heap figure is taken without a forced GC and marked as such.
 * Prints the figures and writes reports/bench-core.json and reports/bench-core.md.
 * Not a test: it never fails on a missed goal, it reports it.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { arch, cpus, platform } from 'node:os'
import { createRegistryNode, PROFILES, type RegistryNode } from '../../packages/core/src/index.js'
import { originDeltas } from './support/bench-claims.js'

const INSTANCES = 100_000
const SERVICES = 10_000
const ORIGINS = 100
const DELTA_SIZE = 100
const LATENCY_CALLS = 500_000
const GOAL_MEDIAN_US = 2
const GOAL_HEAP_MB = 120

const gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc

function heapUsed(): number {
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}

function build(): { node: RegistryNode; buildMs: number; heapBytes: number; baseBytes: number } {
  const baseBytes = heapUsed()
  const node = createRegistryNode({
    nodeId: 'bench-self',
    gen: 1,
    now: () => performance.now(),
    timings: PROFILES.lan,
  })
  let buildMs = 0
  for (let origin = 0; origin < ORIGINS; origin++) {
    const deltas = originDeltas(
      { instances: INSTANCES, origins: ORIGINS, services: SERVICES, deltaSize: DELTA_SIZE },
      origin,
    )
    const start = performance.now()
    for (const delta of deltas) node.applyDelta(delta)
    buildMs += performance.now() - start
  }
  if (node.instanceCount !== INSTANCES) {
    throw new Error(`expected ${INSTANCES} instances, view has ${node.instanceCount}`)
  }
  return { node, buildMs, baseBytes, heapBytes: heapUsed() }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

/** Per-call latency of `call` over random service names, in µs (timer overhead included). */
function measure(call: (name: string) => number) {
  const names = Array.from({ length: SERVICES }, (_, i) => `service-${i}`)
  const order = new Uint32Array(LATENCY_CALLS)
  let seed = 42
  for (let i = 0; i < order.length; i++) {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
    order[i] = seed % SERVICES
  }
  let sink = 0
  for (const name of names) sink += call(name) // warm caches and the JIT
  const samples = new Float64Array(LATENCY_CALLS)
  const start = performance.now()
  for (let i = 0; i < LATENCY_CALLS; i++) {
    const name = names[order[i]!]!
    const t0 = process.hrtime.bigint()
    sink += call(name)
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000
  }
  const totalMs = performance.now() - start
  samples.sort()
  if (sink === 0) throw new Error('no instances returned')
  return {
    calls: LATENCY_CALLS,
    medianUs: percentile(samples, 0.5),
    p99Us: percentile(samples, 0.99),
    maxUs: samples[samples.length - 1]!,
    meanUsWithTimer: (totalMs * 1000) / LATENCY_CALLS,
  }
}

/** Timer overhead alone, to read the latency figures against. */
function timerOverheadUs(): number {
  const samples = new Float64Array(100_000)
  for (let i = 0; i < samples.length; i++) {
    const t0 = process.hrtime.bigint()
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000
  }
  samples.sort()
  return percentile(samples, 0.5)
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits))
const rounded = <T extends Record<string, number>>(figures: T): T =>
  Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, round(v)])) as T
const mb = (bytes: number) => round(bytes / 1024 / 1024, 1)

const { node, buildMs, baseBytes, heapBytes } = build()
const getService = measure((name) => node.getService(name).length)
const filtered = measure((name) => node.service(name, { tags: ['edge'] }).length)
const overhead = timerOverheadUs()

const report = {
  date: new Date().toISOString(),
  node: process.version,
  machine: `${platform()} ${arch()}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`,
  forcedGc: gc !== undefined,
  shape: { instances: INSTANCES, services: SERVICES, origins: ORIGINS, endpoints: 2, metadata: 3 },
  build: { ms: round(buildMs, 1), claimsPerSecond: Math.round(INSTANCES / (buildMs / 1000)) },
  heap: {
    totalMB: mb(heapBytes),
    instancesMB: mb(heapBytes - baseBytes),
    bytesPerInstance: Math.round((heapBytes - baseBytes) / INSTANCES),
    goalMB: GOAL_HEAP_MB,
    met: heapBytes / 1024 / 1024 < GOAL_HEAP_MB,
  },
  getService: {
    ...rounded(getService),
    goalMedianUs: GOAL_MEDIAN_US,
    met: getService.medianUs < GOAL_MEDIAN_US,
  },
  serviceWithTagFilter: rounded(filtered),
  timerOverheadUs: round(overhead),
}

const yes = (met: boolean) => (met ? 'met' : '**missed**')
const markdown = `# Core benchmark

${report.date} · Node ${report.node} · ${report.machine}${report.forcedGc ? '' : ' · **heap measured without --expose-gc**'}

${INSTANCES.toLocaleString('en')} instances over ${SERVICES.toLocaleString('en')} services from ${ORIGINS} origins (2 endpoints, 3 metadata pairs each), applied as validated claims.

| figure | value | goal |
|---|---|---|
| getService median | ${report.getService.medianUs} µs | < ${GOAL_MEDIAN_US} µs (${yes(report.getService.met)}) |
| getService p99 | ${report.getService.p99Us} µs | |
| service(name, {tags}) median / p99 | ${report.serviceWithTagFilter.medianUs} / ${report.serviceWithTagFilter.p99Us} µs | |
| heap used, total | ${report.heap.totalMB} MB | < ${GOAL_HEAP_MB} MB (${yes(report.heap.met)}) |
| heap for the instances | ${report.heap.instancesMB} MB (${report.heap.bytesPerInstance} B/instance) | |
| build (merge + view) | ${report.build.ms} ms (${report.build.claimsPerSecond.toLocaleString('en')} claims/s) | |

Latencies are per call, timed one call at a time with \`process.hrtime.bigint()\`; they include
the timer's own cost (median ${report.timerOverheadUs} µs here).
`

mkdirSync('reports', { recursive: true })
writeFileSync('reports/bench-core.json', `${JSON.stringify(report, null, 2)}\n`)
writeFileSync('reports/bench-core.md', markdown)
console.log(markdown)
