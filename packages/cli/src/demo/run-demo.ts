import type { AgentClient } from '../client/agent-client.js'
import { formatDuration } from '../duration.js'
import type { ClusterLauncher, DemoNode } from './cluster-launcher.js'
import type { DemoReport } from './demo-report.js'
import { followSightings } from './sightings.js'
import { DemoTimeoutError, NoLauncherError, waitUntil } from './wait-until.js'

export interface DemoInit {
  /** Number of agents, 3 to 5. */
  nodes: number
  /** Tried in order; the first available one runs the cluster. */
  launchers: readonly ClusterLauncher[]
  /** Prints one progress line (a no-op with --json). */
  say: (line: string) => void
  signal: AbortSignal
  clientFor: (node: DemoNode) => AgentClient
  /** Deadlines of the steps. @default 30 s to form, 10 s to converge, 30 s to detect */
  timeouts?: { formMs?: number; convergeMs?: number; detectMs?: number }
}

interface Example {
  id: string
  service: string
  node: DemoNode
}

const ms = (value: number) => formatDuration(Math.round(value))

/**
 * The demo: start a cluster, register examples, show them converge, SIGKILL one node and show
 * the others notice; returns the measurements. Everything started is stopped and removed on
 * return, on error and on interruption.
 */
export async function runDemo(init: DemoInit): Promise<DemoReport> {
  const { say, signal } = init
  const timeouts = { formMs: 30_000, convergeMs: 10_000, detectMs: 30_000, ...init.timeouts }
  const launcher = await chooseLauncher(init.launchers, say)
  const stopFollowing: Array<() => void> = []
  let nodes: DemoNode[] = []
  try {
    say(`Starting ${init.nodes} agents…`)
    const startedAt = performance.now()
    nodes = await launcher.start(init.nodes, signal, say)
    const clients = new Map(nodes.map((node) => [node.name, init.clientFor(node)] as const))
    const client = (node: DemoNode) => clients.get(node.name)!
    for (const node of nodes) say(`  ${node.name}  ${node.peerId}  ${node.httpUrl}`)

    await waitUntil(
      `every agent to see ${nodes.length} alive members`,
      async () => {
        const views = await Promise.all(nodes.map((node) => client(node).members()))
        return views.every(
          (members) => members.filter((m) => m.state === 'alive').length >= nodes.length,
        )
      },
      { timeoutMs: timeouts.formMs, signal },
    )
    const clusterFormedMs = performance.now() - startedAt
    say(`Cluster formed: every agent sees ${nodes.length} alive members (${ms(clusterFormedMs)})`)

    const examples: Example[] = [
      ...nodes.map((node, i) => ({ id: `web-${i + 1}`, service: 'web', node })),
      { id: 'api-1', service: 'api', node: nodes[0]! },
    ]
    const registeredAt = new Map<string, number>()
    const victim = nodes[nodes.length - 1]!
    let killedAt = Number.NaN
    const sightings = followSightings(
      nodes.map((node) => ({ name: node.name, client: client(node) })),
      ['web', 'api'],
      (node, id, change, cause) => {
        if (change === 'seen' && registeredAt.has(id)) {
          say(`  ${node} sees ${id} after ${ms(performance.now() - registeredAt.get(id)!)}`)
        } else if (change === 'gone' && !Number.isNaN(killedAt)) {
          say(
            `  ${node} dropped ${id} (${cause ?? 'gone'}) after ${ms(performance.now() - killedAt)}`,
          )
        }
      },
    )
    stopFollowing.push(() => sightings.stop())
    await sightings.opened

    say('')
    say('Registering example services…')
    for (const example of examples) {
      say(`  ${example.id} (service ${example.service}) on ${example.node.name}`)
      registeredAt.set(example.id, performance.now())
      await client(example.node).register({
        id: example.id,
        name: example.service,
        version: 'v1.0.0',
        endpoints: [`http://127.0.0.1:${18_080 + examples.indexOf(example)}`],
        tags: ['demo'],
        metadata: { node: example.node.name },
      })
    }
    await waitUntil(
      'every agent to see every example instance',
      () =>
        examples.every((e) =>
          nodes.every((n) => sightings.get(n.name, e.id)?.seenAt !== undefined),
        ),
      { timeoutMs: timeouts.convergeMs, signal },
    )
    const convergence = examples.map((e) => ({
      instanceId: e.id,
      service: e.service,
      registeredOn: e.node.name,
      perNodeMs: Object.fromEntries(
        nodes.map((n) => [n.name, sightings.get(n.name, e.id)!.seenAt! - registeredAt.get(e.id)!]),
      ),
    }))
    say(`Converged: every agent sees all ${examples.length} instances`)

    say('')
    say(`Killing ${victim.name} with SIGKILL (no goodbye)…`)
    const survivors = nodes.filter((n) => n !== victim)
    const victimInstances = examples.filter((e) => e.node === victim).map((e) => e.id)
    sightings.forget(victim.name)
    killedAt = performance.now()
    victim.kill('SIGKILL')
    const deadMs: Record<string, number> = {}
    await Promise.all([
      waitUntil(
        `every survivor to drop ${victimInstances.join(', ')}`,
        () =>
          survivors.every((n) =>
            victimInstances.every((id) => sightings.get(n.name, id)?.goneAt !== undefined),
          ),
        { timeoutMs: timeouts.detectMs, signal },
      ),
      ...survivors.map((n) =>
        waitUntil(
          `${n.name} to see ${victim.name} dead`,
          async () => {
            const member = (await client(n).members()).find((m) => m.id === victim.peerId)
            if (member !== undefined && member.state === 'alive') return false
            if (member !== undefined && member.state === 'suspect') return false
            const elapsed = performance.now() - killedAt
            deadMs[n.name] = elapsed
            say(`  ${n.name} marks ${victim.name} ${member?.state ?? 'gone'} after ${ms(elapsed)}`)
            return true
          },
          { timeoutMs: timeouts.detectMs, signal },
        ),
      ),
    ])
    const hiddenMs = Object.fromEntries(
      survivors.map((n) => [
        n.name,
        Math.max(...victimInstances.map((id) => sightings.get(n.name, id)!.goneAt! - killedAt)),
      ]),
    )
    return {
      strategy: launcher.label,
      nodes: nodes.map((n) => ({ name: n.name, peerId: n.peerId, httpUrl: n.httpUrl })),
      clusterFormedMs,
      convergence,
      failure: {
        node: victim.name,
        peerId: victim.peerId,
        instances: victimInstances,
        hiddenMs,
        deadMs,
      },
    }
  } catch (err) {
    // The agents' logs go with their temp dir at cleanup: show the end of each first.
    if (err instanceof DemoTimeoutError) {
      for (const node of nodes) say(`--- last log lines of ${node.name} ---\n${node.logTail(8)}`)
    }
    throw err
  } finally {
    for (const stop of stopFollowing) stop()
    say('')
    say('Cleaning up: stopping agents and removing their data…')
    await launcher.cleanup()
  }
}

/**
 * The first available launcher. Each one passed over gets one line saying why, e.g. `mDNS in
 * network namespaces unavailable: creating network namespaces needs root; using loopback
 * bootstrap`, so the user knows which strategy the figures come from.
 */
async function chooseLauncher(
  launchers: readonly ClusterLauncher[],
  say: (line: string) => void,
): Promise<ClusterLauncher> {
  const skipped: string[] = []
  for (const launcher of launchers) {
    const available = await launcher.available()
    if (available !== true) {
      skipped.push(`${launcher.label} unavailable: ${available}`)
      continue
    }
    for (const line of skipped) say(`${line}; using ${launcher.label}`)
    say(`Cluster: ${launcher.description}`)
    return launcher
  }
  throw new NoLauncherError(skipped)
}
