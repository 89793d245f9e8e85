/**
 * DNS and Consul-route benchmark at 100k instances (10k services of 10 instances, each with
 * two endpoints on one IP, so an A answer has 10 records and an SRV answer 20).
 *
 * The server is a separate process (support/dns-bench-server.ts): a daemon with DNS and the
 * Consul routes over a local agent holding the instances. This process is the client, on
 * 127.0.0.1:
 * - DNS latency: one UDP query at a time, random services, A and SRV; p50/p99 (goal p99 ≤ 1 ms);
 * - DNS throughput: 64 queries in flight over 4 sockets for a fixed time; answers per second,
 *   and the server's own CPU time over the run, so the figure per core is known
 *   (goal ≥ 20k queries/s on one core);
 * - Consul-route read latency: one request at a time on a kept-alive connection,
 *   GET /v1/health/service/:name?passing and /v1/catalog/service/:name; p50/p99.
 *
 * Run with `npm run bench:dns` (under the heavy lock on a shared machine). Prints every figure
 * next to its goal and writes reports/bench-dns.json and .md. Never fails on a missed goal.
 */
import { spawn } from 'node:child_process'
import { createSocket, type Socket } from 'node:dgram'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { arch, cpus, platform } from 'node:os'
import { createInterface } from 'node:readline'
import * as dnsPacket from 'dns-packet'
import { load, summarize } from './support/stats.js'

const INSTANCES = 100_000
const SERVICES = 10_000
const LATENCY_QUERIES = 20_000
const THROUGHPUT_MS = 5_000
const IN_FLIGHT = 64
const SOCKETS = 4
const HTTP_REQUESTS = 2_000
const GOAL_P99_MS = 1
const GOAL_QPS = 20_000

let seed = 42
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
  return seed / 0x7fffffff
}
const pickService = () => `service-${Math.floor(random() * SERVICES)}`

function query(name: string, type: 'A' | 'SRV', id: number): Buffer {
  return dnsPacket.encode({
    id,
    type: 'query',
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type }],
  })
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

async function startServer() {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@grapevine/source',
      'scripts/bench/support/dns-bench-server.ts',
      String(INSTANCES),
      String(SERVICES),
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
    createInterface({ input: child.stdout! }).once('line', resolve)
  })
  const info = JSON.parse(line) as { http: string; dns: string; pid: number; instances: number }
  return { child, ...info }
}

function udpTarget(dns: string) {
  const [host, port] = dns.split(':') as [string, string]
  return { host, port: Number(port) }
}

/** One query at a time; round-trip time of each in ms. */
async function latency(
  dns: string,
  type: 'A' | 'SRV',
  count: number,
): Promise<{ ms: number[]; answers: number; truncated: number }> {
  const { host, port } = udpTarget(dns)
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const ms: number[] = []
  let answers = 0
  let truncated = 0
  for (let i = 0; i < count; i++) {
    const id = i & 0xffff
    const message = query(`${pickService()}.service.grapevine`, type, id)
    const start = process.hrtime.bigint()
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('DNS query timed out')), 2000)
      const onMessage = (data: Buffer) => {
        if (data.readUInt16BE(0) !== id) return
        clearTimeout(timer)
        socket.off('message', onMessage)
        resolve(data)
      }
      socket.on('message', onMessage)
      socket.send(message, port, host)
    })
    ms.push(Number(process.hrtime.bigint() - start) / 1e6)
    answers += reply.readUInt16BE(6)
    if ((reply.readUInt16BE(2) & dnsPacket.TRUNCATED_RESPONSE) !== 0) truncated++
  }
  socket.close()
  // The first 10% is warm-up.
  return { ms: ms.slice(Math.floor(count / 10)), answers: answers / count, truncated }
}

/** `IN_FLIGHT` queries outstanding over `SOCKETS` sockets for `durationMs`; answers per second. */
async function throughput(dns: string, serverPid: number, durationMs: number) {
  const { host, port } = udpTarget(dns)
  const sockets: Socket[] = []
  let answered = 0
  let lost = 0
  let running = true
  const perSocket = IN_FLIGHT / SOCKETS
  for (let s = 0; s < SOCKETS; s++) {
    const socket = createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
    let nextId = 0
    const pending = new Map<number, NodeJS.Timeout>()
    const send = () => {
      if (!running) return
      const id = nextId++ & 0xffff
      const timer = setTimeout(() => {
        // A lost packet must not stall the pipeline: count it and send another.
        pending.delete(id)
        lost++
        send()
      }, 1000)
      pending.set(id, timer)
      socket.send(query(`${pickService()}.service.grapevine`, 'A', id), port, host)
    }
    socket.on('message', (data) => {
      const id = data.readUInt16BE(0)
      const timer = pending.get(id)
      if (timer === undefined) return
      clearTimeout(timer)
      pending.delete(id)
      answered++
      send()
    })
    sockets.push(socket)
    for (let i = 0; i < perSocket; i++) send()
    socket.on('close', () => {
      for (const timer of pending.values()) clearTimeout(timer)
    })
  }
  // Warm up for a second, then measure.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const startAnswered = answered
  const startCpu = cpuSeconds(serverPid)
  const start = performance.now()
  await new Promise((resolve) => setTimeout(resolve, durationMs))
  const seconds = (performance.now() - start) / 1000
  const cpu = cpuSeconds(serverPid) - startCpu
  const count = answered - startAnswered
  running = false
  for (const socket of sockets) socket.close()
  return {
    queriesPerSecond: Math.round(count / seconds),
    serverCpuCores: Number((cpu / seconds).toFixed(2)),
    queriesPerCoreSecond: Math.round(count / cpu),
    lost,
  }
}

async function httpLatency(base: string, path: () => string, count: number) {
  const ms: number[] = []
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint()
    const res = await fetch(`${base}${path()}`)
    await res.arrayBuffer()
    ms.push(Number(process.hrtime.bigint() - start) / 1e6)
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`)
  }
  return ms.slice(Math.floor(count / 10))
}

const server = await startServer()
console.log(`server ready: ${server.instances} instances, DNS ${server.dns}, HTTP ${server.http}`)
const loadBefore = load()
const a = await latency(server.dns, 'A', LATENCY_QUERIES)
const srv = await latency(server.dns, 'SRV', LATENCY_QUERIES / 2)
const rate = await throughput(server.dns, server.pid, THROUGHPUT_MS)
const health = await httpLatency(
  server.http,
  () => `/v1/health/service/${pickService()}?passing`,
  HTTP_REQUESTS,
)
const catalog = await httpLatency(
  server.http,
  () => `/v1/catalog/service/${pickService()}`,
  HTTP_REQUESTS,
)
server.child.stdin!.end()
await new Promise((resolve) => server.child.once('exit', resolve))

const aStats = summarize(a.ms, 3)
const srvStats = summarize(srv.ms, 3)
const healthStats = summarize(health, 3)
const catalogStats = summarize(catalog, 3)
const report = {
  date: new Date().toISOString(),
  node: process.version,
  machine: `${platform()} ${arch()}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`,
  load: { before: loadBefore, after: load() },
  shape: {
    instances: INSTANCES,
    services: SERVICES,
    perService: INSTANCES / SERVICES,
    endpoints: 2,
  },
  dnsA: {
    ...aStats,
    recordsPerAnswer: a.answers,
    goalP99Ms: GOAL_P99_MS,
    met: aStats.p99 <= GOAL_P99_MS,
  },
  dnsSrv: { ...srvStats, recordsPerAnswer: srv.answers },
  dnsThroughput: {
    ...rate,
    inFlight: IN_FLIGHT,
    goalQps: GOAL_QPS,
    met: rate.queriesPerCoreSecond >= GOAL_QPS,
  },
  consulHealthService: healthStats,
  consulCatalogService: catalogStats,
}
const yes = (met: boolean) => (met ? 'met' : '**missed**')
const markdown = `# DNS and Consul-route benchmark

${report.date} · Node ${report.node} · ${report.machine} · load ${report.load.before.join(' ')}

${INSTANCES.toLocaleString('en')} instances over ${SERVICES.toLocaleString('en')} services (10 each, 2 endpoints on one IP), served by a daemon in its own process; the client is this process, on 127.0.0.1.

| figure | p50 | p99 | goal |
|---|---|---|---|
| DNS A over UDP, one at a time (${a.answers} records) | ${aStats.p50} ms | ${aStats.p99} ms | p99 ≤ ${GOAL_P99_MS} ms (${yes(report.dnsA.met)}) |
| DNS SRV over UDP, one at a time (${srv.answers} records, ${srv.truncated} truncated) | ${srvStats.p50} ms | ${srvStats.p99} ms | |
| GET /v1/health/service/:name?passing | ${healthStats.p50} ms | ${healthStats.p99} ms | |
| GET /v1/catalog/service/:name | ${catalogStats.p50} ms | ${catalogStats.p99} ms | |

| DNS throughput (${IN_FLIGHT} in flight) | value | goal |
|---|---|---|
| answers per second | ${rate.queriesPerSecond.toLocaleString('en')} q/s | |
| server CPU over the run | ${rate.serverCpuCores} cores | one event loop: at most 1 |
| answers per second of server CPU | ${rate.queriesPerCoreSecond.toLocaleString('en')} q/s per core | ≥ ${GOAL_QPS.toLocaleString('en')} (${yes(report.dnsThroughput.met)}) |
| queries lost (re-sent after 1 s) | ${rate.lost} | |

Queries carry EDNS0 with a 1232-byte buffer, as dig and systemd-resolved send them.
Latencies are round trips measured by the client (\`process.hrtime.bigint()\`), the first 10%
dropped as warm-up. The client shares the machine's cores with the server.
`
mkdirSync('reports', { recursive: true })
writeFileSync('reports/bench-dns.json', `${JSON.stringify(report, null, 2)}\n`)
writeFileSync('reports/bench-dns.md', markdown)
console.log(markdown)
