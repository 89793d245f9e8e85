import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'

/** Nearest-rank percentile (p in 0..1) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

export interface Summary {
  n: number
  p50: number
  p99: number
  max: number
  mean: number
}

export function summarize(samples: readonly number[], digits = 2): Summary {
  if (samples.length === 0) {
    return { n: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN }
  }
  const mean = samples.reduce((sum, x) => sum + x, 0) / samples.length
  const r = (x: number) => Number(x.toFixed(digits))
  return {
    n: samples.length,
    p50: r(percentile(samples, 0.5)),
    p99: r(percentile(samples, 0.99)),
    max: r(Math.max(...samples)),
    mean: r(mean),
  }
}

export const round = (x: number, digits = 1): number => Number(x.toFixed(digits))

export function load(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg()
  return [round(a, 2), round(b, 2), round(c, 2)]
}

export function cpuModel(): string {
  return cpus()[0]?.model ?? 'unknown CPU'
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Polls `check` every `intervalMs` until it is truthy or `timeoutMs` passes (then false). */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 20,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (performance.now() > deadline) return false
    await sleep(intervalMs)
  }
}

/** Machine-wide CPU counters from /proc/stat (all cores, all processes), in clock ticks. */
export function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
    const fields = line.trim().split(/\s+/).slice(1).map(Number)
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
    const total = fields.slice(0, 8).reduce((sum, x) => sum + x, 0)
    return { busy: total - idle, total }
  } catch {
    return { busy: 0, total: 0 }
  }
}

/** Cores busy between two `machineCpu()` readings (0..cores), or NaN without /proc. */
export function coresBusy(
  before: { busy: number; total: number },
  after: { busy: number; total: number },
): number {
  const total = after.total - before.total
  if (total <= 0) return Number.NaN
  return round(((after.busy - before.busy) / total) * cpus().length, 2)
}
