/**
 * The server side of the DNS benchmark, in its own process so that its one event loop (one
 * core) is what is measured: a `grapevine agent` daemon (HTTP with the Consul routes, and DNS)
 * over a local agent holding the benchmark's instances. Prints one JSON line
 * `{http, dns, pid, instances}` when ready, then serves until stdin closes.
 */
import { resolveConfig } from '../../../packages/cli/src/config/resolve-config.js'
import { startDaemon } from '../../../packages/cli/src/daemon/daemon.js'
import { createLogger } from '../../../packages/cli/src/daemon/logger.js'
import type { ApiAgent } from '../../../packages/cli/src/http/agent-extensions.js'
import { createLocalAgent } from '../../../packages/core/src/index.js'

const instances = Number(process.argv[2] ?? 100_000)
const services = Number(process.argv[3] ?? 10_000)

const agent = createLocalAgent({ nodeId: 'bench-node' })
for (let n = 0; n < instances; n++) {
  const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`
  await agent.register({
    id: `inst-${n}`,
    name: `service-${n % services}`,
    version: `v1.${n % 7}.0`,
    metadata: { zone: `zone-${n % 3}`, weight: String((n % 100) + 1), owner: `team-${n % 50}` },
    endpoints: [`grpc://${ip}:9000?isSecure=false`, `http://${ip}:8080`],
    tags: [n % 2 === 0 ? 'edge' : 'core'],
  })
}
const { config } = resolveConfig({
  flags: { httpAddr: '127.0.0.1:0', dnsAddr: '127.0.0.1:0', logLevel: 'warn' },
  env: {},
  readFile: () => '',
})
const daemon = await startDaemon(config, {
  createAgent: async () => agent as ApiAgent,
  logger: createLogger('silent', process.stderr),
  readFile: () => '',
})
console.log(
  JSON.stringify({
    http: daemon.url,
    dns: daemon.listening.dns,
    pid: process.pid,
    instances: agent.stats().instances,
  }),
)
process.stdin.resume()
process.stdin.on('end', () => {
  void daemon.shutdown('benchmark done').then(() => process.exit(0))
})
