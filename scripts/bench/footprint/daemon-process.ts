/**
 * One `grapevine agent` process as the footprint benchmark sees it: the installed command's
 * compiled JavaScript under plain `node` (no tsx), with every moment that matters stamped on
 * this process's clock as its log lines arrive.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const BIN = join(root, 'packages', 'cli', 'bin', 'grapevine.js')

export interface DaemonProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** performance.now() when spawned. */
  readonly spawnedAt: number
  /** `http://127.0.0.1:PORT` of its API. */
  readonly http: string
  readonly addresses: readonly string[]
  /** performance.now() of the first 200 from `/ready`. */
  readonly readyAt: number
  /** Sends SIGTERM; resolves with when the leave finished (`agent stopped`) and when it exited. */
  stop(
    timeoutMs: number,
  ): Promise<{ signalledAt: number; stoppedAt: number; exitedAt: number; code: number | null }>
  kill(): void
}

export interface StartDaemonInit {
  cluster: string
  dataDir: string
  bootstrap?: readonly string[]
  timeoutMs: number
}

/** Resident set size of a process, in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
  if (kib === undefined) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(kib) * 1024
}

/**
 * Starts a daemon on 127.0.0.1 (OS-chosen ports, no mDNS) and resolves once `/ready` answers
 * 200; it is polled every 2 ms from the moment the `agent started` line names the port.
 */
export async function startDaemon(init: StartDaemonInit): Promise<DaemonProcess> {
  const args = ['agent', '--cluster', init.cluster, '--listen', '/ip4/127.0.0.1/tcp/0']
  // Every port chosen by the OS, so runs never collide with an agent already on this machine.
  args.push('--mdns=false', '--http-addr', '127.0.0.1:0', '--dns-addr', '127.0.0.1:0')
  args.push('--data-dir', init.dataDir)
  for (const address of init.bootstrap ?? []) args.push('--bootstrap', address)
  const spawnedAt = performance.now()
  // The bin itself, so that its shebang's V8 flags apply as for an installed command.
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let stoppedAt = Number.NaN
  // Stamped at `exit`, resolved at `close`: by then every log line has been read.
  const exited = new Promise<{ exitedAt: number; code: number | null }>((resolve) => {
    let exitedAt = Number.NaN
    child.once('exit', () => {
      exitedAt = performance.now()
    })
    child.once('close', (code) => resolve({ exitedAt, code }))
  })
  const started = new Promise<{ http: string; addresses: string[] }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no "agent started" line')), init.timeoutMs)
    void exited.then(({ code }) =>
      reject(new Error(`daemon exited with ${code} before it started`)),
    )
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { msg?: string; http?: string; addresses?: string[] }
      try {
        entry = JSON.parse(line)
      } catch {
        return
      }
      if (entry.msg === 'agent started') {
        clearTimeout(timer)
        resolve({ http: String(entry.http), addresses: entry.addresses ?? [] })
      } else if (entry.msg === 'agent stopped') stoppedAt = performance.now()
    })
  })
  const { http, addresses } = await started
  const deadline = spawnedAt + init.timeoutMs
  let readyAt = Number.NaN
  while (Number.isNaN(readyAt)) {
    if (performance.now() > deadline) throw new Error(`${http}/ready not 200 in time`)
    const response = await fetch(`${http}/ready`).catch(() => undefined)
    await response?.arrayBuffer()
    if (response?.status === 200) readyAt = performance.now()
    else await new Promise((resolve) => setTimeout(resolve, 2))
  }
  return {
    child,
    pid: child.pid!,
    spawnedAt,
    http,
    addresses,
    readyAt,
    async stop(timeoutMs) {
      const signalledAt = performance.now()
      child.kill('SIGTERM')
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs)
      })
      const exit = await Promise.race([exited, timeout])
      clearTimeout(timer)
      if (exit === undefined) {
        child.kill('SIGKILL')
        throw new Error(`daemon ${child.pid} still running ${timeoutMs} ms after SIGTERM`)
      }
      return { signalledAt, stoppedAt, ...exit }
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    },
  }
}
