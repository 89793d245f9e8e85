/**
 * Who used the CPU, and when: every `intervalMs`, the machine's busy and total ticks
 * (/proc/stat), the CPU "some" pressure stall time (/proc/pressure/cpu: time during which a
 * runnable task waited for a core) and the ticks of each benchmark process
 * (/proc/<pid>/stat). The machine is shared with other work, so each measured interval can
 * be told apart: how many cores the benchmark's processes used, how many everything else
 * used, and how much of the time something waited for a core. Linux only; elsewhere every
 * figure is NaN.
 */
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { wallNow } from './protocol.js'

interface Sample {
  t: number
  busy: number
  total: number
  /** Cumulative µs with at least one task waiting for a CPU. */
  stallUs: number
  /** Ticks (user + system) per benchmark process. */
  pids: Map<number, number>
}

export interface CpuShare {
  /** Cores used by the benchmark's processes over the interval. */
  ours: number
  /** Cores used by everything else. */
  others: number
  /** Share of the interval (0..1) during which some runnable task waited for a core. */
  stall: number
}

const TICKS_PER_SECOND = 100 // USER_HZ on Linux

function readMachine(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
    const fields = line.trim().split(/\s+/).slice(1, 9).map(Number)
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
    const total = fields.reduce((sum, x) => sum + x, 0)
    return { busy: total - idle, total }
  } catch {
    return undefined
  }
}

function readStall(): number {
  try {
    const some = readFileSync('/proc/pressure/cpu', 'utf8').split('\n')[0] ?? ''
    return Number(/total=(\d+)/.exec(some)?.[1] ?? Number.NaN)
  } catch {
    return Number.NaN
  }
}

function readTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // After the command: state is field 3, utime 14 and stime 15 (1-based, in `man proc`).
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return undefined
  }
}

export interface CpuSampler {
  /** CPU use between two wallNow() times (widened to the samples around them). */
  between(from: number, to: number): CpuShare
  stop(): void
}

export function startCpuSampler(pids: () => Iterable<number>, intervalMs = 100): CpuSampler {
  const samples: Sample[] = []
  const cores = cpus().length
  const take = (): void => {
    const machine = readMachine()
    if (machine === undefined) return
    const ticks = new Map<number, number>()
    for (const pid of [process.pid, ...pids()]) {
      const value = readTicks(pid)
      if (value !== undefined) ticks.set(pid, value)
    }
    samples.push({ t: wallNow(), ...machine, stallUs: readStall(), pids: ticks })
    // Bounded: a long run keeps the last hour at 10 samples per second.
    if (samples.length > 36_000) samples.splice(0, samples.length - 36_000)
  }
  take()
  const timer = setInterval(take, intervalMs)
  timer.unref()

  return {
    between(from, to) {
      let a: Sample | undefined
      let b: Sample | undefined
      for (const sample of samples) {
        if (sample.t <= from) a = sample
        if (sample.t >= to && b === undefined) b = sample
      }
      b ??= samples[samples.length - 1]
      if (a === undefined || b === undefined || b.total <= a.total) {
        return { ours: Number.NaN, others: Number.NaN, stall: Number.NaN }
      }
      const seconds = (b.t - a.t) / 1000
      let ourTicks = 0
      for (const [pid, ticks] of b.pids) {
        const before = a.pids.get(pid)
        if (before !== undefined) ourTicks += ticks - before
      }
      const ours = ourTicks / TICKS_PER_SECOND / seconds
      const machine = ((b.busy - a.busy) / (b.total - a.total)) * cores
      return {
        ours,
        others: Math.max(0, machine - ours),
        stall: (b.stallUs - a.stallUs) / (seconds * 1e6),
      }
    },
    stop() {
      clearInterval(timer)
    },
  }
}
