/**
 * Merge benchmark: how fast a replica absorbs claims.
 *
 * 100k validated claims (2 endpoints and 3 metadata pairs each) from 100 origins, measured as:
 * - `applyDelta` in DELTAs of 100 claims, the gossip fast path (goal > 200k claims/s);
 * - the same DELTAs again, as duplicates (the idempotent path: every claim is dropped);
 * - `applyPart` of the snapshot parts a joining node pulls (`partsFor` with a 1 MiB budget);
 * - `partsFor` itself, building those parts on the sender.
 * Each figure is the median of several runs on a fresh replica. The replica alone is timed
 * (no view), so this is the merge's own cost; `core.bench.ts` measures merge plus view.
 *
 * Run with `node --expose-gc --import tsx scripts/bench/merge.bench.ts`. Prints the figures
 * and writes reports/bench-merge.json and reports/bench-merge.md. Not a test: it never fails
 * on a missed goal, it reports it.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { arch, cpus, platform } from 'node:os'
import {
  createReplica,
  type Digest,
  type Replica,
  type SyncPart,
} from '../../packages/core/src/index.js'
import { benchDeltas } from './support/bench-claims.js'

const INSTANCES = 100_000
const ORIGINS = 100
const DELTA_SIZE = 100
const RUNS = 7
const SYNC_BUDGET_BYTES = 1024 * 1024
const GOAL_CLAIMS_PER_SECOND = 200_000

const gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc

/** Every origin's writes as the wire would deliver them: validated on receipt. */
const fresh = (): Replica => createReplica({ now: () => performance.now(), tombstoneTtl: 60_000 })

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** Median over `RUNS` of `run()`'s milliseconds; `setup` is untimed. */
function timed<T>(setup: () => T, run: (input: T) => void): number {
  const samples: number[] = []
  for (let i = 0; i < RUNS + 1; i++) {
    const input = setup()
    gc?.()
    const start = performance.now()
    run(input)
    const ms = performance.now() - start
    if (i > 0) samples.push(ms) // the first run warms the JIT
  }
  return median(samples)
}

/** What a joining node pulls from `source`: each round's SYN digest and the parts it got. */
function pullAll(source: Replica): { digests: Digest[]; rounds: SyncPart[][] } {
  const receiver = fresh()
  const digests: Digest[] = []
  const rounds: SyncPart[][] = []
  for (;;) {
    const digest = receiver.digest()
    const parts = source.partsFor(digest, SYNC_BUDGET_BYTES)
    if (parts.length === 0) return { digests, rounds }
    for (const part of parts) receiver.applyPart(part)
    digests.push(digest)
    rounds.push(parts)
  }
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits))
const perSecond = (claims: number, ms: number) => Math.round(claims / (ms / 1000))

const input = benchDeltas({
  instances: INSTANCES,
  origins: ORIGINS,
  services: 10_000,
  deltaSize: DELTA_SIZE,
})
const claims = input.reduce((sum, delta) => sum + delta.claims.length, 0)

const deltaMs = timed(fresh, (replica) => {
  for (const delta of input) replica.applyDelta(delta)
})

const duplicateMs = timed(
  () => {
    const replica = fresh()
    for (const delta of input) replica.applyDelta(delta)
    return replica
  },
  (replica) => {
    for (const delta of input) replica.applyDelta(delta)
  },
)

const source = fresh()
for (const delta of input) source.applyDelta(delta)
const { digests, rounds } = pullAll(source)
const partCount = rounds.reduce((sum, parts) => sum + parts.length, 0)

const partMs = timed(fresh, (replica) => {
  for (const parts of rounds) for (const part of parts) replica.applyPart(part)
})

const partsForMs = timed(
  () => digests,
  (syns) => {
    for (const digest of syns) source.partsFor(digest, SYNC_BUDGET_BYTES)
  },
)

gc?.()
const before = process.memoryUsage().heapUsed
const held = fresh()
for (const delta of input) held.applyDelta(delta)
gc?.()
const replicaBytes = process.memoryUsage().heapUsed - before
if (held.size !== claims) throw new Error(`expected ${claims} claims, replica holds ${held.size}`)

const report = {
  date: new Date().toISOString(),
  node: process.version,
  machine: `${platform()} ${arch()}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`,
  forcedGc: gc !== undefined,
  shape: { claims, origins: ORIGINS, deltaSize: DELTA_SIZE, runs: RUNS, endpoints: 2, metadata: 3 },
  applyDelta: { ms: round(deltaMs), claimsPerSecond: perSecond(claims, deltaMs) },
  applyDeltaDuplicates: { ms: round(duplicateMs), claimsPerSecond: perSecond(claims, duplicateMs) },
  applyPart: {
    ms: round(partMs),
    claimsPerSecond: perSecond(claims, partMs),
    parts: partCount,
    rounds: rounds.length,
    budgetBytes: SYNC_BUDGET_BYTES,
  },
  partsFor: { ms: round(partsForMs), claimsPerSecond: perSecond(claims, partsForMs) },
  replicaHeap: {
    MB: round(replicaBytes / 1024 / 1024),
    bytesPerClaimIndexOnly: Math.round(replicaBytes / claims),
  },
  goalClaimsPerSecond: GOAL_CLAIMS_PER_SECOND,
  met: perSecond(claims, deltaMs) > GOAL_CLAIMS_PER_SECOND,
}

const fmt = (n: number) => n.toLocaleString('en')
const markdown = `# Merge benchmark

${report.date} · Node ${report.node} · ${report.machine}${report.forcedGc ? '' : ' · **without --expose-gc**'}

${fmt(claims)} validated claims from ${ORIGINS} origins (2 endpoints, 3 metadata pairs each); median of ${RUNS} runs on a fresh replica (replica only, no view).

| path | time | throughput | goal |
|---|---|---|---|
| applyDelta, DELTAs of ${DELTA_SIZE} | ${report.applyDelta.ms} ms | ${fmt(report.applyDelta.claimsPerSecond)} claims/s | > ${fmt(GOAL_CLAIMS_PER_SECOND)} (${report.met ? 'met' : '**missed**'}) |
| applyDelta, duplicates | ${report.applyDeltaDuplicates.ms} ms | ${fmt(report.applyDeltaDuplicates.claimsPerSecond)} claims/s | |
| applyPart, snapshot pull (${partCount} parts in ${rounds.length} rounds of ≤ 1 MiB) | ${report.applyPart.ms} ms | ${fmt(report.applyPart.claimsPerSecond)} claims/s | |
| partsFor, building those rounds | ${report.partsFor.ms} ms | ${fmt(report.partsFor.claimsPerSecond)} claims/s | |

Replica heap for the claims' indexes (the claims themselves are shared with the input): ${report.replicaHeap.MB} MB.
`

mkdirSync('reports', { recursive: true })
writeFileSync('reports/bench-merge.json', `${JSON.stringify(report, null, 2)}\n`)
writeFileSync('reports/bench-merge.md', markdown)
console.log(markdown)
