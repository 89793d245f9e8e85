/**
 * Footprint benchmark: what the daemon and the embedded agent cost a machine.
 *
 * Every measured process runs the compiled packages under plain `node`, as an installed
 * `grapevine` does (`npm run bench:footprint` builds first):
 * - start-up: `grapevine agent` alone, from spawn to the first 200 of `/ready` (goal ≤ 300 ms);
 * - a CLI call (`members`, `service web`) against a running agent, spawn to exit (≤ 150 ms);
 * - idle RSS of the daemons of a 3-node cluster with one registration each (≤ 60 MiB);
 * - RSS an embedded agent adds to its host process (≤ 30 MiB);
 * - after SIGTERM, from the `agent stopped` line (the graceful leave finished) to the
 *   process's exit (≤ 200 ms): the daemon has no exit timer, so this shows that nothing is left
 *   open;
 * - for scale, the floor (`node -e 0`) and, when `serf` is installed, a Serf agent's idle RSS
 *   (otherwise its commonly quoted 15 MiB).
 * Prints each figure next to its goal and writes reports/bench-footprint.{json,md}. Not a
 * test: a missed goal is reported, not failed. Run it under the machine's heavy lock.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { arch, cpus, platform, release, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BIN, type DaemonProcess, rssOf, startDaemon } from './footprint/daemon-process.js'
import { load, round, type Summary, summarize } from './support/stats.js'

const quick = process.argv.includes('--quick')
const STARTS = quick ? 5 : 20
const CLI_CALLS = quick ? 10 : 40
const IDLE_SETTLE_MS = 5_000
const IDLE_SAMPLE_MS = quick ? 5_000 : 15_000
const SAMPLE_INTERVAL_MS = 500
const EMBEDDED_RUNS = quick ? 2 : 5
const EMBEDDED_IDLE_MS = 10_000
const TIMEOUT_MS = 30_000
const MiB = 2 ** 20
const SERF_QUOTED_MIB = 15

const GOALS = {
  readyMs: 300,
  cliCallMs: 150,
  daemonIdleRssMiB: 60,
  embeddedAddsMiB: 30,
  exitAfterLeaveMs: 200,
}

const here = dirname(fileURLToPath(import.meta.url))
const work = mkdtempSync(join(tmpdir(), `grapevine-footprint-${process.pid}-`))
const loadStart = load()
const started = performance.now()
let serial = 0
const dataDir = () => join(work, `node-${++serial}`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Wall time of a child process from spawn to exit, in ms; throws on a non-zero exit. */
function timeCommand(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env })
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.once('exit', (code) => {
      const ms = performance.now() - start
      if (code === 0) resolve(ms)
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr}`))
    })
  })
}

async function startStopCycles() {
  const ready: number[] = []
  const rssAtReady: number[] = []
  const exitAfterLeave: number[] = []
  const sigtermToExit: number[] = []
  const exitCodes: (number | null)[] = []
  for (let i = 0; i < STARTS; i++) {
    const daemon = await startDaemon({
      cluster: `fp-start-${process.pid}-${i}`,
      dataDir: dataDir(),
      timeoutMs: TIMEOUT_MS,
    })
    ready.push(daemon.readyAt - daemon.spawnedAt)
    rssAtReady.push(rssOf(daemon.pid) / MiB)
    const stop = await daemon.stop(TIMEOUT_MS)
    exitAfterLeave.push(stop.exitedAt - stop.stoppedAt)
    sigtermToExit.push(stop.exitedAt - stop.signalledAt)
    exitCodes.push(stop.code)
  }
  return {
    readyMs: summarize(ready, 1),
    rssAtReadyMiB: summarize(rssAtReady, 1),
    exitAfterLeaveMs: summarize(exitAfterLeave, 1),
    sigtermToExitMs: summarize(sigtermToExit, 1),
    exitCodes: [...new Set(exitCodes)],
  }
}

/** A 3-node cluster (two bootstrap to the first), one registration each, via the CLI. */
async function clusterIdleAndCli() {
  const first = await startDaemon({
    cluster: `fp-idle-${process.pid}`,
    dataDir: dataDir(),
    timeoutMs: TIMEOUT_MS,
  })
  const daemons: DaemonProcess[] = [first]
  try {
    for (let i = 0; i < 2; i++) {
      daemons.push(
        await startDaemon({
          cluster: `fp-idle-${process.pid}`,
          dataDir: dataDir(),
          bootstrap: first.addresses,
          timeoutMs: TIMEOUT_MS,
        }),
      )
    }
    for (const [i, daemon] of daemons.entries()) {
      const env = { ...process.env, GRAPEVINE_HTTP_ADDR: daemon.http.replace('http://', '') }
      await timeCommand(
        BIN,
        ['register', '--name', 'web', '--endpoint', `http://127.0.0.1:${8080 + i}`],
        env,
      )
    }
    const env = { ...process.env, GRAPEVINE_HTTP_ADDR: first.http.replace('http://', '') }
    const cli: number[] = []
    for (let i = 0; i < CLI_CALLS; i++) {
      const args = i % 2 === 0 ? ['members', '--json'] : ['service', 'web', '--json']
      cli.push(await timeCommand(BIN, args, env))
    }
    await sleep(IDLE_SETTLE_MS)
    const rss: number[] = []
    for (let waited = 0; waited < IDLE_SAMPLE_MS; waited += SAMPLE_INTERVAL_MS) {
      for (const daemon of daemons) rss.push(rssOf(daemon.pid) / MiB)
      await sleep(SAMPLE_INTERVAL_MS)
    }
    return { cliCallMs: summarize(cli, 1), daemonIdleRssMiB: summarize(rss, 1) }
  } finally {
    await Promise.all(daemons.map((daemon) => daemon.stop(TIMEOUT_MS).catch(() => daemon.kill())))
  }
}

async function embedded() {
  const added: number[] = []
  const hostBefore: number[] = []
  for (let i = 0; i < EMBEDDED_RUNS; i++) {
    const script = join(here, 'footprint', 'embedded-host.mjs')
    const out = execFileSync(
      process.execPath,
      [script, String(EMBEDDED_IDLE_MS), String(SAMPLE_INTERVAL_MS)],
      {
        encoding: 'utf8',
        timeout: EMBEDDED_IDLE_MS + TIMEOUT_MS,
      },
    )
    const { before, samples } = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
      before: number
      samples: number[]
    }
    hostBefore.push(before / MiB)
    for (const sample of samples) added.push((sample - before) / MiB)
  }
  return { embeddedAddsMiB: summarize(added, 1), hostBeforeMiB: summarize(hostBefore, 1) }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** A Serf agent alone on 127.0.0.1, when the `serf` command exists: idle RSS samples. */
async function serf(): Promise<Summary | undefined> {
  if (spawnSync('serf', ['version']).status !== 0) return undefined
  const bind = `127.0.0.1:${await freePort()}`
  const rpc = `127.0.0.1:${await freePort()}`
  const child = spawn('serf', ['agent', `-bind=${bind}`, `-rpc-addr=${rpc}`, '-node=footprint'], {
    stdio: 'ignore',
  })
  try {
    await sleep(IDLE_SETTLE_MS)
    const rss: number[] = []
    for (let waited = 0; waited < IDLE_SAMPLE_MS; waited += SAMPLE_INTERVAL_MS) {
      rss.push(rssOf(child.pid!) / MiB)
      await sleep(SAMPLE_INTERVAL_MS)
    }
    return summarize(rss, 1)
  } finally {
    child.kill('SIGTERM')
  }
}

async function nodeFloor(): Promise<Summary> {
  const runs: number[] = []
  for (let i = 0; i < 10; i++) runs.push(await timeCommand(process.execPath, ['-e', '0']))
  return summarize(runs, 1)
}

function cpuModel(): string {
  return cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU'
}

const cycles = await startStopCycles()
const cluster = await clusterIdleAndCli()
const host = await embedded()
const serfRss = await serf()
const floor = await nodeFloor()
rmSync(work, { recursive: true, force: true })

const serfMiB = serfRss?.p50 ?? SERF_QUOTED_MIB
const serfSource =
  serfRss === undefined ? 'quoted (serf not installed)' : 'measured here, idle alone'
interface Row {
  figure: string
  unit: string
  summary: Summary
  goal?: number
  vsSerf?: boolean
}
const rows: Row[] = [
  {
    figure: 'daemon alone: spawn → /ready 200',
    unit: 'ms',
    summary: cycles.readyMs,
    goal: GOALS.readyMs,
  },
  {
    figure: 'CLI call against a running agent',
    unit: 'ms',
    summary: cluster.cliCallMs,
    goal: GOALS.cliCallMs,
  },
  {
    figure: 'daemon idle RSS (3-node cluster)',
    unit: 'MiB',
    summary: cluster.daemonIdleRssMiB,
    goal: GOALS.daemonIdleRssMiB,
    vsSerf: true,
  },
  {
    figure: 'embedded agent adds to its host',
    unit: 'MiB',
    summary: host.embeddedAddsMiB,
    goal: GOALS.embeddedAddsMiB,
    vsSerf: true,
  },
  {
    figure: 'exit after the leave finished',
    unit: 'ms',
    summary: cycles.exitAfterLeaveMs,
    goal: GOALS.exitAfterLeaveMs,
  },
  { figure: 'SIGTERM → exit (leave included)', unit: 'ms', summary: cycles.sigtermToExitMs },
  { figure: 'daemon RSS at /ready', unit: 'MiB', summary: cycles.rssAtReadyMiB, vsSerf: true },
  { figure: 'host process before loading Grapevine', unit: 'MiB', summary: host.hostBeforeMiB },
  { figure: 'floor: node -e 0, spawn → exit', unit: 'ms', summary: floor },
]

const ratio = (value: number, goal: number | undefined) =>
  goal === undefined ? '' : `${round(value / goal, 2)}×`
const lines = [
  '# Footprint benchmark',
  '',
  `${platform()} ${release()} ${arch()}, ${cpus().length} × ${cpuModel()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}; load average ${loadStart.join(' ')} at start.`,
  `Serf agent: ${serfMiB} MiB RSS, ${serfSource}.`,
  '',
  '| figure | median | p99 | n | goal | p99 / goal | median vs Serf |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(({ figure, unit, summary, goal, vsSerf }) =>
    [
      '',
      figure,
      `${summary.p50} ${unit}`,
      `${summary.p99} ${unit}`,
      summary.n,
      goal === undefined ? '' : `≤ ${goal} ${unit}`,
      ratio(summary.p99, goal),
      vsSerf ? `${round(summary.p50 / serfMiB, 1)}× Serf` : '',
      '',
    ]
      .join(' | ')
      .trim(),
  ),
  '',
  `Exit codes after SIGTERM: ${cycles.exitCodes.join(', ')}. The daemon has no exit timer; it exits when nothing is left open.`,
]
const markdown = `${lines.join('\n')}\n`
const report = {
  machine: {
    platform: platform(),
    release: release(),
    arch: arch(),
    cpu: cpuModel(),
    cores: cpus().length,
    node: process.versions.node,
  },
  quick,
  loadAverage: { start: loadStart, end: load() },
  durationSeconds: round((performance.now() - started) / 1000),
  goals: GOALS,
  serf: { miB: serfMiB, source: serfSource, measured: serfRss ?? null },
  startStop: cycles,
  cluster,
  embedded: host,
  nodeFloorMs: floor,
}
mkdirSync('reports', { recursive: true })
writeFileSync('reports/bench-footprint.json', `${JSON.stringify(report, null, 2)}\n`)
writeFileSync('reports/bench-footprint.md', markdown)
console.log(markdown)
