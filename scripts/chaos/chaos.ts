/**
 * `npm run chaos`: the chaos suite. Runs each scenario on its own cluster of agent processes
 * and prints one row per scenario: lost, resurrected and dead-node-visible counts (all must be
 * 0), the time the cluster took to settle, and memory. Writes the table to reports/.
 *
 *   npm run chaos                     # every scenario, a 10-minute soak
 *   npm run chaos -- --minutes 2      # a shorter soak
 *   npm run chaos -- --only kill-same,partition
 *
 * Bounded: every agent process exits by itself after its scenario's budget, and the runner
 * kills what is left on exit, error or Ctrl-C. The partition scenario needs root (network
 * namespaces); without it, that row says why it was skipped.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { namespaceUnavailableReason } from '../../test/support/netns.js'
import { liveClusters } from './chaos-cluster.js'
import { type Row, SCENARIOS } from './scenarios.js'

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    only: { type: 'string' },
  },
})
const minutes = Number(values.minutes)
if (!Number.isFinite(minutes) || minutes <= 0)
  throw new Error('--minutes must be a positive number')
const names = values.only?.split(',') ?? Object.keys(SCENARIOS)
for (const name of names) {
  if (!(name in SCENARIOS))
    throw new Error(`no scenario ${name}; known: ${Object.keys(SCENARIOS).join(', ')}`)
}

const killAll = () => {
  for (const cluster of liveClusters) cluster.killNow()
}
process.on('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll()
    process.exit(130)
  })
}
// The whole run's bound: the soak plus two minutes per other scenario.
const budgetMs = (minutes + 2 * names.length + 2) * 60_000
setTimeout(() => {
  console.error(`chaos: over the ${budgetMs / 60_000} min budget, stopping`)
  process.exit(2)
}, budgetMs).unref()

const rows: Row[] = []
const skipped: string[] = []
for (const name of names) {
  if (name === 'partition' && namespaceUnavailableReason() !== undefined) {
    skipped.push(`partition: ${namespaceUnavailableReason()}`)
    continue
  }
  const lifetimeMs = (name === 'soak' ? minutes + 3 : 3) * 60_000
  const started = performance.now()
  process.stderr.write(`chaos: ${name}… `)
  const row = await SCENARIOS[name]!(minutes)(lifetimeMs)
  rows.push(row)
  process.stderr.write(`${((performance.now() - started) / 1000).toFixed(0)} s\n`)
}

const fixed = (x: number | undefined, digits: number) =>
  x === undefined ? '–' : Number.isNaN(x) ? 'timeout' : x.toFixed(digits)
const header =
  '| scenario | agents | ops | lost | resurrected | dead-node-visible | convergence (s) | heap max (MiB) | heap growth (MiB/min) | note |'
const lines = [
  header,
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${r.agents} | ${r.ops} | ${r.lost} | ${r.resurrected} | ${r.deadVisible} | ${fixed(r.convergenceS, 2)} | ${fixed(r.heapMiB, 1)} | ${fixed(r.growthMiBPerMin, 3)} | ${r.note ?? ''} |`,
  ),
]
const pass = rows.every(
  (r) =>
    r.lost === 0 &&
    r.resurrected === 0 &&
    r.deadVisible === 0 &&
    !Number.isNaN(r.convergenceS) &&
    (r.growthMiBPerMin === undefined || r.growthMiBPerMin < 1),
)
const summary = [
  `Goals: 0 lost, 0 resurrected, 0 dead-node instances visible in every row; heap growth per agent < 1 MiB/min over the soak. ${pass ? 'All met.' : 'NOT MET.'}`,
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; soak ${minutes} min.`,
  ...skipped.map((s) => `Skipped ${s}`),
]
const text = `${lines.join('\n')}\n\n${summary.join('\n')}\n`
console.log(text)
const reports = join(process.cwd(), 'reports')
await mkdir(reports, { recursive: true })
const file = join(reports, `chaos-${new Date().toISOString().replace(/[:.]/g, '-')}.md`)
await writeFile(file, `# Chaos run\n\n${text}`)
console.log(`report: ${file}`)
process.exit(pass ? 0 : 1)
