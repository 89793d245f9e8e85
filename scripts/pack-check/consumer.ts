/**
 * A consumer's TypeScript against the published packages: pack-check copies this file into a
 * project outside the workspace and type-checks it with options stricter than the workspace's
 * own (exactOptionalPropertyTypes, noPropertyAccessFromIndexSignature, skipLibCheck off), so
 * every shipped `.d.ts` must hold under them. It is only compiled, never run.
 */
import { type AgentOptions, createAgent, type GrapevineAgent } from '@grapevine/agent'
import { createBalancer, createFetch, createRoundRobinPicker } from '@grapevine/balancer'
import { createAgentClient } from '@grapevine/cli'
import {
  createLocalAgent,
  GrapevineError,
  type ServiceInstance,
  ValidationError,
} from '@grapevine/core'
import { seededRandom, waitFor } from '@grapevine/core/testing'

const options: AgentOptions = { cluster: 'consumer', mdns: false, listen: ['/ip4/127.0.0.1/tcp/0'] }
const first: GrapevineAgent = await createAgent(options)
// The addresses of one agent are the bootstrap of the next (a readonly array).
const second = await createAgent({ ...options, bootstrap: first.addresses })

const id: string = await first.register({
  name: 'web',
  endpoints: ['http://127.0.0.1:8080'],
  metadata: { zone: 'a' },
  checks: [{ kind: 'ttl', id: 'heartbeat', ttl: '15s' }],
})
first.ttl(id, 'heartbeat', 'pass')
await waitFor('web on the second agent', () => second.getService('web').length > 0, {
  timeoutMs: 5_000,
})
const seen: readonly ServiceInstance[] = second.getService('web')
// biome-ignore lint/complexity/useLiteralKeys: the consumer sets noPropertyAccessFromIndexSignature
const zone: string | undefined = seen[0]?.metadata['zone']

const balancer = createBalancer({
  discovery: second,
  service: 'web',
  picker: createRoundRobinPicker(),
})
const fetchService = createFetch({ discovery: second })
balancer.close()
fetchService.close()

try {
  await first.register({ name: 'bad name' })
} catch (err) {
  if (err instanceof ValidationError) console.log(err.field, err.code)
  else if (err instanceof GrapevineError) console.log(err.code)
}

const local = createLocalAgent()
await local.stop()
const client = createAgentClient({ baseUrl: 'http://127.0.0.1:8510' })
console.log(zone, client.baseUrl, seededRandom(1)())
await second.leave()
await first.leave()
