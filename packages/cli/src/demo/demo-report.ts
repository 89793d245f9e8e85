import { formatDuration } from '../duration.js'
import { renderTable } from '../output/table.js'

/** What the demo measured; `--json` prints it as is. */
export interface DemoReport {
  strategy: string
  nodes: Array<{ name: string; peerId: string; httpUrl: string }>
  /** Start of the first agent → every node sees every node alive. */
  clusterFormedMs: number
  convergence: Array<{
    instanceId: string
    service: string
    registeredOn: string
    /** Register call → the instance appears in that node's watch stream. */
    perNodeMs: Record<string, number>
  }>
  failure: {
    node: string
    peerId: string
    instances: string[]
    /** SIGKILL → the last of the node's instances disappears from that survivor's stream. */
    hiddenMs: Record<string, number>
    /** SIGKILL → that survivor's members list shows the node dead (polled every 25 ms). */
    deadMs: Record<string, number>
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Headline figures: convergence (median and max over instances) and detection (max over survivors). */
export function summarize(report: DemoReport) {
  const convergence = report.convergence.map((c) => Math.max(...Object.values(c.perNodeMs)))
  return {
    convergenceMedianMs: convergence.length > 0 ? median(convergence) : 0,
    convergenceMaxMs: convergence.length > 0 ? Math.max(...convergence) : 0,
    hiddenMaxMs: Math.max(0, ...Object.values(report.failure.hiddenMs)),
    deadMaxMs: Math.max(0, ...Object.values(report.failure.deadMs)),
  }
}

const ms = (value: number) => formatDuration(Math.round(value))

/** The closing summary the demo prints. */
export function formatDemoReport(report: DemoReport): string {
  const summary = summarize(report)
  const nodes = report.nodes.map((n) => n.name)
  const convergenceRows = report.convergence.map((c) => [
    c.instanceId,
    c.registeredOn,
    ...nodes.map((n) => (c.perNodeMs[n] === undefined ? '-' : ms(c.perNodeMs[n]))),
  ])
  const survivors = Object.keys(report.failure.deadMs)
  const detectionRows = survivors.map((n) => [
    n,
    report.failure.hiddenMs[n] === undefined ? '-' : ms(report.failure.hiddenMs[n]),
    ms(report.failure.deadMs[n]!),
  ])
  return [
    'Convergence (register → visible in each node’s watch stream):',
    renderTable(
      ['INSTANCE', 'REGISTERED ON', ...nodes.map((n) => n.toUpperCase())],
      convergenceRows,
    ),
    '',
    `Failure detection after SIGKILL of ${report.failure.node}:`,
    renderTable(['SURVIVOR', 'INSTANCES HIDDEN', 'MEMBER DEAD'], detectionRows),
    '',
    `Summary (${report.nodes.length} agents, ${report.strategy}):`,
    `  started and joined in       ${ms(report.clusterFormedMs)}`,
    `  convergence                 median ${ms(summary.convergenceMedianMs)}, max ${ms(summary.convergenceMaxMs)}`,
    `  failure detection           instances hidden after ${ms(summary.hiddenMaxMs)}, member dead after ${ms(summary.deadMaxMs)}`,
  ].join('\n')
}
