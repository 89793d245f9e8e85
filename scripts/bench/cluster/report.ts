import type { ProfileTimings } from '../../../packages/core/src/index.js'
import type { Summary } from '../support/stats.js'
import type { Ledger, Phase } from './context.js'
import type { FailureResult, FailureRuns } from './failures.js'
import type { JoinFigures } from './join-sync.js'
import type { PropagationResult } from './propagation.js'

export interface ClusterReport {
  date: string
  node: string
  machine: { description: string; cpuModel: string; cores: number }
  quick: boolean
  loadAverage: { start: [number, number, number]; end: [number, number, number] }
  durationSeconds: number
  profile: { name: string } & ProfileTimings
  goals: {
    registerEverywhereP99At10NodesMs: number
    registerEverywhereP99At30NodesMs: number
    killGoneEverywhereP99Ms: number
    stopGoneEverywhereP99Ms: number
    resumeEverywhereP99Ms: number
    idleCpuPercentPerProcess: number
    idleBytesRatio30To10: number
    hogFalseDeaths: number
    join100kMs: number
    lostRegistrations: number
  }
  clock: { method: string; maxAbsOffsetMs: number; maxRttMs: number; hosts: number }
  propagation: PropagationResult[]
  failures: FailureResult[]
  join: JoinFigures | undefined
  registrations: Ledger[]
  lostTotal: number
  phases: Phase[]
  error: string | undefined
}

const verdict = (met: boolean) => (met ? 'met' : '**missed**')
const ms = (x: number) => (Number.isNaN(x) ? '–' : `${x} ms`)
const s = (x: number) => (Number.isNaN(x) ? '–' : `${(x / 1000).toFixed(2)} s`)
const kb = (x: number) => `${(x / 1024).toFixed(1)} KiB/s`
const dist = (summary: Summary, unit: (x: number) => string = ms) =>
  `${unit(summary.p50)} / ${unit(summary.p99)} (n=${summary.n})`

function propagationTable(report: ClusterReport): string {
  if (report.propagation.length === 0) return ''
  const goal = report.goals.registerEverywhereP99At10NodesMs
  const rows = report.propagation.map((p) => {
    const e = p.everywhere
    const goalCell =
      p.nodes === 10
        ? `p99 < ${goal} ms: ${verdict(e.all.p99 < goal)}${e.quiet.n > 0 ? `; quiet only: ${verdict(e.quiet.p99 < goal)}` : ''}`
        : ''
    const busiest = Math.max(...p.hosts.map((h) => h.cpuPercent))
    const perProcess = p.hosts.length === 1 ? `${busiest}%` : `≤ ${busiest}%`
    const label = p.saturated ? `${p.label} (**CPU-saturated**)` : p.label
    return `| ${label} | ${dist(e.all)} | ${ms(e.all.max)} | ${dist(e.quiet)} | ${dist(p.perNode)} | ${perProcess} | ${e.meanOursCores} / ${e.meanOthersCores} / ${Math.round(100 * e.meanStall)}% | ${p.late} / ${p.lost} | ${goalCell} |`
  })
  const where = report.propagation.map((p) => {
    const p99 = Math.max(...p.hosts.map((h) => h.loopDelayP99Ms))
    const max = Math.max(...p.hosts.map((h) => h.loopDelayMaxMs))
    const dropped = Object.entries(p.dropped)
      .map(([reason, n]) => `${reason} ×${n}`)
      .join(', ')
    return `| ${p.label} | ${ms(p99)} / ${ms(max)} | ${p.syncSessions} (~${p.antiEntropySessions}) | ${dropped || 'none'} | ${p.spuriousDeletes} |`
  })
  const gap = report.propagation[0]!.gapMs
  return `## Register → visible on every node

Sparse start: node 0 is the seed, every other node bootstraps to it; the peer keeper then
dials up to 16 members. After membership converged and 3 s of settling, registrations one at
a time from each node in turn, ${gap[0]}–${gap[1]} ms apart, after 10 unmeasured ones. Time from
just before \`register()\` to the \`add\` event on each node's \`events()\` stream. "Quiet" keeps
only registrations during which the machine's other processes used < 0.25 cores. CPU columns
are means over the registrations: cores used by this cluster / by everything else / share of
time some runnable task waited for a core (PSI "some"). "CPU-saturated": an event loop was
busy ≥ 95% of the time or the machine's cores ≥ 90%; latencies then measure queueing for the
CPU rather than the protocol.

| cluster | everywhere p50 / p99 | max | quiet only: p50 / p99 | per node p50 / p99 | CPU per process (% of a core) | cores ours / others / CPU stall | late / lost | goal |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Where the time goes, during the measured registrations:

| cluster | event-loop delay p99 / max (worst process) | sync sessions (periodic anti-entropy alone: ~) | dropped | live nodes wrongly expired (delete events) |
|---|---|---|---|---|
${where.join('\n')}
`
}

function runsRow(name: string, runs: FailureRuns, goalMs: number): string {
  const e = runs.everywhere
  return `| ${name} | ${runs.runs} | ${dist(e.all, s)} | ${s(e.all.max)} | ${dist(runs.first, s)} | ${dist(runs.perObserver, s)} | ${e.meanOursCores} / ${e.meanOthersCores} / ${Math.round(100 * e.meanStall)}% | ${runs.incomplete} | p99 < ${s(goalMs)}: ${verdict(runs.incomplete === 0 && e.all.p99 < goalMs)} |`
}

function failureTables(report: ClusterReport): string {
  return report.failures.map((f) => failureTable(report, f)).join('\n')
}

function failureTable(report: ClusterReport, f: FailureResult): string {
  const causes = (runs: FailureRuns) =>
    Object.entries(runs.causes)
      .map(([cause, n]) => `${cause} ×${n}`)
      .join(', ')
  const idle = f.idle
  const hog =
    f.hog === undefined
      ? ''
      : `\nCPU hog: two busy loops for ${f.hog.seconds} s (machine ${f.hog.machineCoresBusy} cores busy): ${f.hog.falseDeletes} deletes of live nodes' instances, ${f.hog.nodesDeclaredDead} live nodes declared dead (goal 0: ${verdict(f.hog.nodesDeclaredDead === 0)}).\n`
  return `## Failure detection (${f.nodes} processes, one agent each, ${f.instancesPerNode} instances per node)

Time from the signal to the \`delete\` event of each of the victim's instances on the other
nodes. "Everywhere" is per run (the last node); "first" the first node; "per node" every
(run, node) pair. Victims rotate over the non-seed nodes; after each run a fresh node takes
the victim's place and the cluster is converged again (every node shows every instance and
sees every node alive: ${f.agreedBeforeRuns ? 'yes, before every run' : '**not before every run**'}). "kill -9 after join": a
fresh node joins, registers and is killed 1 s after it was ready.

| signal | runs | everywhere p50 / p99 | max | first node p50 / p99 | per node p50 / p99 | cores ours / others / CPU stall | not gone in 10 s | goal |
|---|---|---|---|---|---|---|---|---|
${runsRow('kill -9', f.kill, report.goals.killGoneEverywhereP99Ms)}
${runsRow('kill -9 1 s after join', f.freshKill, report.goals.killGoneEverywhereP99Ms)}
${runsRow('SIGSTOP', f.stop, report.goals.stopGoneEverywhereP99Ms)}

Delete causes — kill -9: ${causes(f.kill)}; after join: ${causes(f.freshKill)}; SIGSTOP: ${causes(f.stop)}.
A victim's instances deleted before its signal (a live node taken for dead; (instance, node) pairs) —
kill -9: ${f.kill.earlyDeletes}; after join: ${f.freshKill.earlyDeletes}; SIGSTOP: ${f.stop.earlyDeletes}.
SIGCONT → the stopped node's instances shown on every node again: p50 / p99 ${dist(f.resume, s)}
(${f.resumeIncomplete} not back within 10 s; goal p99 < ${s(report.goals.resumeEverywhereP99Ms)}: ${verdict(f.resumeIncomplete === 0 && f.resume.p99 < report.goals.resumeEverywhereP99Ms)}).
A fresh node's registrations (made right after \`ready\`) reached every node in p50 / p99
${dist(f.freshRegistration)}, max ${ms(f.freshRegistration.max)}.
${hog}
### Idle traffic (${f.nodes} nodes, ${idle.seconds} s, nothing registered or removed)

Per node per second, median / max over the nodes. "Grapevine payload" is \`agent.stats()\`
(bytesIn/bytesOut: probes, member records, DELTA and sync frames as encoded); "TCP" is every
byte the process's sockets read or wrote (Noise, Yamux, gossipsub control, identify, ping);
"UDP" every datagram payload (membership's sealed probes).

| figure | median | max |
|---|---|---|
| Grapevine payload in | ${kb(idle.appBytesIn.p50)} | ${kb(idle.appBytesIn.max)} |
| Grapevine payload out | ${kb(idle.appBytesOut.p50)} | ${kb(idle.appBytesOut.max)} |
| TCP in | ${kb(idle.wireBytesIn.p50)} | ${kb(idle.wireBytesIn.max)} |
| TCP out | ${kb(idle.wireBytesOut.p50)} | ${kb(idle.wireBytesOut.max)} |
| UDP in | ${kb(idle.udpBytesIn.p50)} | ${kb(idle.udpBytesIn.max)} |
| UDP out | ${kb(idle.udpBytesOut.p50)} | ${kb(idle.udpBytesOut.max)} |
| Grapevine messages in / out | ${idle.appMessagesIn.p50} / ${idle.appMessagesOut.p50} per s | ${idle.appMessagesIn.max} / ${idle.appMessagesOut.max} per s |
| CPU | ${idle.cpuPercent.p50}% of a core | ${idle.cpuPercent.max}% |
| open TCP sockets | ${idle.openSockets.p50} | ${idle.openSockets.max} |

Cores busy during the window: the cluster ${idle.ourCores}, the whole machine ${idle.machineCoresBusy}.
`
}

/** Every goal of the issue, next to what was measured. */
function goalsTable(report: ClusterReport): string {
  const g = report.goals
  const rows: string[] = []
  const row = (figure: string, measured: string, goal: string, met: boolean | undefined) =>
    rows.push(`| ${figure} | ${measured} | ${goal} | ${met === undefined ? '–' : verdict(met)} |`)
  const wire = (f: FailureResult) =>
    f.idle.wireBytesIn.p50 +
    f.idle.wireBytesOut.p50 +
    f.idle.udpBytesIn.p50 +
    f.idle.udpBytesOut.p50
  const at = (n: number) => report.failures.find((f) => f.nodes === n)
  for (const f of report.failures) {
    row(
      `idle CPU per process, ${f.nodes} processes`,
      `p50 ${f.idle.cpuPercent.p50}%, max ${f.idle.cpuPercent.max}%`,
      `≤ ${g.idleCpuPercentPerProcess}%`,
      f.nodes <= 30 ? f.idle.cpuPercent.max <= g.idleCpuPercentPerProcess : undefined,
    )
    row(
      `idle bytes on the wire per node, ${f.nodes} processes`,
      `${kb(wire(f))} (TCP + UDP, in + out, p50)`,
      '–',
      undefined,
    )
  }
  const ten = at(10)
  const thirty = at(30)
  if (ten !== undefined && thirty !== undefined) {
    const ratio = wire(thirty) / wire(ten)
    row(
      'idle bytes per node, 30 vs 10',
      `${ratio.toFixed(2)}×`,
      `≤ ${g.idleBytesRatio30To10}×`,
      ratio <= g.idleBytesRatio30To10,
    )
  }
  for (const p of report.propagation.filter((p) => p.agentsPerProcess === 1)) {
    const goal =
      p.nodes <= 10 ? g.registerEverywhereP99At10NodesMs : g.registerEverywhereP99At30NodesMs
    row(
      `register → everywhere, ${p.label}`,
      `p50 ${ms(p.everywhere.all.p50)}, p99 ${ms(p.everywhere.all.p99)}`,
      `p99 ≤ ${goal} ms`,
      p.nodes <= 30 ? p.everywhere.all.p99 <= goal : undefined,
    )
  }
  for (const f of report.failures) {
    const goal =
      f.nodes <= 10 ? g.registerEverywhereP99At10NodesMs : g.registerEverywhereP99At30NodesMs
    row(
      `register right after join → everywhere, ${f.nodes} processes`,
      `p50 ${ms(f.freshRegistration.p50)}, p99 ${ms(f.freshRegistration.p99)}`,
      `p99 ≤ ${goal} ms`,
      f.nodes <= 30 ? f.freshRegistration.p99 <= goal : undefined,
    )
    for (const [name, runs] of [
      ['kill -9 (steady)', f.kill],
      ['kill -9 1 s after join', f.freshKill],
    ] as const) {
      row(
        `${name} → gone everywhere, ${f.nodes} processes`,
        `p50 ${s(runs.everywhere.all.p50)}, p99 ${s(runs.everywhere.all.p99)} (${runs.incomplete} not gone)`,
        `p99 ≤ ${s(g.killGoneEverywhereP99Ms)}`,
        f.nodes <= 30
          ? runs.incomplete === 0 && runs.everywhere.all.p99 <= g.killGoneEverywhereP99Ms
          : undefined,
      )
    }
    row(
      `SIGSTOP → gone everywhere, ${f.nodes} processes`,
      `p50 ${s(f.stop.everywhere.all.p50)}, p99 ${s(f.stop.everywhere.all.p99)}`,
      `≤ ${s(g.stopGoneEverywhereP99Ms)}`,
      f.stop.incomplete === 0 && f.stop.everywhere.all.p99 <= g.stopGoneEverywhereP99Ms,
    )
    row(
      `SIGCONT → back everywhere, ${f.nodes} processes`,
      `p50 ${s(f.resume.p50)}, p99 ${s(f.resume.p99)}`,
      `≤ ${s(g.resumeEverywhereP99Ms)}`,
      f.resumeIncomplete === 0 && f.resume.p99 <= g.resumeEverywhereP99Ms,
    )
    if (f.hog !== undefined) {
      row(
        `CPU hog ${f.hog.seconds} s, ${f.nodes} processes: live nodes declared dead`,
        `${f.hog.nodesDeclaredDead} (${f.hog.falseDeletes} instance deletes)`,
        `${g.hogFalseDeaths}`,
        f.hog.nodesDeclaredDead === g.hogFalseDeaths,
      )
    }
  }
  if (rows.length === 0) return ''
  return `## Goals

| figure | measured | goal | |
|---|---|---|---|
${rows.join('\n')}
`
}

function joinTable(report: ClusterReport): string {
  const j = report.join
  if (j === undefined) return ''
  const goal = report.goals.join100kMs
  const rows = j.runs.map(
    (run, i) =>
      `| ${i + 1} | ${ms(run.createdMs)} | ${run.tcpConnectedMs === null ? '–' : ms(run.tcpConnectedMs)} | ${run.firstBytesMs === null ? '–' : ms(run.firstBytesMs)} | ${run.readyMs === null ? '–' : ms(run.readyMs)} | ${run.allMs === null ? '**not in 30 s**' : ms(run.allMs)} | ${run.fromConnectMs === null ? '–' : ms(run.fromConnectMs)} | ${run.held.toLocaleString('en')} | ${run.syncSessions} | ${ms(run.cpuMs)} | ${ms(run.holderCpuMs)} | ${run.othersCores} |`,
  )
  const met = j.runs.every((run) => run.allMs !== null && run.allMs < goal)
  return `## Join sync of ${j.instances.toLocaleString('en')} instances

The holder (its own process) registered ${j.instances.toLocaleString('en')} instances over
${j.services.toLocaleString('en')} services (2 endpoints, 3 metadata pairs each) in ${ms(j.registerMs)};
heap ${j.holderHeapMB} MB. Each joiner is a fresh process, loaded and idle before the clock
starts; times are from its \`createAgent()\` call. Sync payload received: ${j.syncMB} MB.

| run | createAgent returned | TCP connected | first bytes in | ready | holds all | connected → holds all | held | sync sessions | joiner CPU | holder CPU | other processes (cores) |
|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

From start: p50 ${ms(j.fromStart.p50)}, max ${ms(j.fromStart.max)}; from the connection: p50
${ms(j.fromConnect.p50)}, max ${ms(j.fromConnect.max)}. Goal < ${s(goal)}: ${verdict(met)}.
`
}

function ledgerTable(report: ClusterReport): string {
  const rows = report.registrations.map(
    (l) =>
      `| ${l.scenario} | ${l.made.toLocaleString('en')} | ${l.late} | ${l.lost} | ${l.notes.join('; ')} |`,
  )
  return `## Lost registrations (goal: 0 — ${verdict(report.lostTotal === 0)})

Every registration made was checked to be shown by every surviving node; "late" arrived after
the scenario's deadline (5 s per registration; 10 s for a node's batch), "lost" never did
(checked again at the end, after anti-entropy had time to run).

| scenario | registrations | late | lost | notes |
|---|---|---|---|---|
${rows.join('\n')}
| **total** | ${report.registrations.reduce((n, l) => n + l.made, 0).toLocaleString('en')} | ${report.registrations.reduce((n, l) => n + l.late, 0)} | ${report.lostTotal} | |
`
}

export function renderMarkdown(report: ClusterReport): string {
  const phases = report.phases
    .map(
      (p) =>
        `| ${p.name} | ${p.seconds} s | ${p.loadStart.join(' ')} | ${p.loadEnd.join(' ')} | ${p.machineCoresBusy} |`,
    )
    .join('\n')
  return `# Cluster benchmark

${report.date} · Node ${report.node} · ${report.machine.description}${report.quick ? ' · **--quick run: too few repetitions for real figures**' : ''}
${report.error === undefined ? '' : `\n**The run failed:** ${report.error}\n`}
Profile \`lan\`: probe every ${report.profile.probeInterval} ms (timeout ${report.profile.probeTimeout} ms),
suspicion ${report.profile.suspicionMult}·log10(n) periods (×${report.profile.suspicionMaxMult} without confirmations), sync ${report.profile.syncInterval} ms. All traffic on 127.0.0.1; every
agent runs in a child process of the benchmark (several agents per process where said).
**The ${report.machine.cores} cores are shared** with whatever else runs on the machine: load average
${report.loadAverage.start.join(' ')} at the start, ${report.loadAverage.end.join(' ')} at the end (per phase below).

Clock: ${report.clock.method}. Largest offset found ${report.clock.maxAbsOffsetMs.toFixed(3)} ms
(RTT ≤ ${report.clock.maxRttMs.toFixed(3)} ms) over ${report.clock.hosts} processes.
Percentiles are nearest-rank: with fewer than 100 samples, p99 is the maximum.

${goalsTable(report)}
${propagationTable(report)}
${failureTables(report)}
${joinTable(report)}
${ledgerTable(report)}
## Phases

Total ${report.durationSeconds} s.

| phase | duration | load avg at start (1/5/15 min) | at end | cores busy (all processes) |
|---|---|---|---|---|
${phases}
`
}
