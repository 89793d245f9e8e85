import { execFileSync, spawnSync } from 'node:child_process'
import { createSocket, type Socket } from 'node:dgram'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createAgentClient } from '../src/client/agent-client.js'
import type { DemoNode } from '../src/demo/cluster-launcher.js'
import { CLI_COMMAND } from '../src/demo/demo-launchers.js'
import { createLoopbackLauncher } from '../src/demo/loopback-launcher.js'
import { createNamespaceLauncher, DEMO_DIR_PREFIX } from '../src/demo/namespace-launcher.js'
import { namespaceUnavailableReason } from '../src/demo/network-namespaces.js'
import { runDemo } from '../src/demo/run-demo.js'
import { removeStaleResources } from '../src/demo/stale-resources.js'

// A prefix of its own, so that a demo run by hand at the same time is never touched.
const PREFIX = 'gvdtest'
const unavailable = namespaceUnavailableReason(PREFIX)
if (unavailable !== undefined) {
  console.warn(
    `namespace launcher tests skipped: ${unavailable} (they run as root on Linux, as CI does)`,
  )
}

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' })
const ours = (listing: string, start: string) =>
  listing
    .split('\n')
    .map((line) => line.split(/[ :@]/).find((word) => word !== '') ?? '')
    .filter((name) => name.startsWith(start))

/**
 * A socket in the root namespace on the mDNS port. Bound before the demo starts; once the
 * network exists it joins the mDNS group on the demo's veth (synchronously, before any agent
 * is spawned), so any mDNS datagram the agents' bridge let through would be counted.
 */
async function mdnsWitness() {
  const socket: Socket = createSocket({ type: 'udp4', reuseAddr: true })
  const heard: string[] = []
  let subnet: string | undefined
  socket.on('message', (_message, from) => {
    if (subnet !== undefined && from.address.startsWith(`${subnet}.`)) heard.push(from.address)
  })
  await new Promise<void>((resolve) => socket.bind(5353, resolve))
  return {
    heard,
    watch(hostAddress: string, rootAddress: string) {
      subnet = hostAddress.split('.').slice(0, 3).join('.')
      socket.addMembership('224.0.0.251', rootAddress)
    },
    close: () => socket.close(),
  }
}

describe.skipIf(unavailable !== undefined)(
  'namespace launcher (real namespaces and agents)',
  () => {
    const cleanups: Array<() => unknown> = []
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup()
    })

    it('runs the demo by mDNS alone, keeps multicast off the root namespace, removes everything', async () => {
      const launcher = createNamespaceLauncher({
        command: CLI_COMMAND,
        cluster: `netns-test-${process.pid}`,
        namespacePrefix: PREFIX,
      })
      cleanups.push(() => launcher.cleanup())
      const witness = await mdnsWitness()
      cleanups.push(() => witness.close())
      let nodes: DemoNode[] = []
      const lines: string[] = []
      let namespacesWhileRunning: string[] = []
      const report = await runDemo({
        nodes: 3,
        launchers: [
          {
            ...launcher,
            start: async (count, signal, say) => {
              nodes = await launcher.start(count, signal, (line) => {
                say?.(line)
                const network = launcher.network
                if (line.startsWith('Network:') && network?.root !== undefined) {
                  witness.watch(network.addresses[0]!, network.root.address)
                }
              })
              return nodes
            },
          },
          createLoopbackLauncher({ command: CLI_COMMAND, cluster: 'unused' }),
        ],
        say: (line) => {
          lines.push(line)
          if (line.startsWith('Cluster formed')) {
            namespacesWhileRunning = ours(ip('netns', 'list'), `${PREFIX}-${process.pid}-`)
          }
        },
        signal: new AbortController().signal,
        clientFor: (node) => createAgentClient({ baseUrl: node.httpUrl }),
      })

      expect(lines).toContain(`Cluster: ${launcher.description}`)
      expect(lines.some((line) => line.startsWith('Network: 3 namespaces'))).toBe(true)
      expect(report.strategy).toBe('mDNS in network namespaces')
      expect(namespacesWhileRunning).toHaveLength(4)
      expect(report.convergence).toHaveLength(4)
      expect(Object.keys(report.failure.deadMs).sort()).toEqual(['node-1', 'node-2'])
      for (const node of nodes) {
        // Joined by mDNS alone: no bootstrap address was given.
        const started = node
          .logTail(200)
          .split('\n')
          .find((line) => line.includes('"agent started"'))
        expect(JSON.parse(started!)).toMatchObject({ mdns: true, bootstrap: [] })
        expect(node.httpUrl).toMatch(/^http:\/\/10\.\d+\.\d+\.[1-3]:\d+$/)
      }
      // The agents found each other by mDNS on the bridge; none of it reached the root namespace.
      expect(witness.heard).toEqual([])

      // Everything it made is gone once the demo returns.
      expect(launcher.network).toBeUndefined()
      expect(ours(ip('netns', 'list'), `${PREFIX}-${process.pid}-`)).toEqual([])
      expect(ours(ip('-o', 'link'), `${PREFIX}${process.pid.toString(36)}`)).toEqual([])
      const dirs = readdirSync(tmpdir()).filter((d) =>
        d.startsWith(`${DEMO_DIR_PREFIX}${process.pid}-`),
      )
      expect(dirs).toEqual([])
      for (const node of nodes) expect(await node.exited).not.toBeUndefined()
    })

    it('removes namespaces and data dirs left by a demo that was killed, and only those', async () => {
      const deadPid = spawnSync(process.execPath, ['-e', '']).pid
      const stale = [`${PREFIX}-${deadPid}-1-br`, `${PREFIX}-${deadPid}-1-n1`]
      const live = `${PREFIX}-${process.pid}-99-br`
      for (const ns of [...stale, live]) ip('netns', 'add', ns)
      cleanups.push(() => {
        for (const ns of [...stale, live]) spawnSync('ip', ['netns', 'del', ns])
      })
      const staleDir = join(tmpdir(), `${DEMO_DIR_PREFIX}${deadPid}-Stale1`)
      mkdirSync(join(staleDir, 'node-1'), { recursive: true })

      const removed = await removeStaleResources(PREFIX, DEMO_DIR_PREFIX)
      expect(removed.namespaces.sort()).toEqual([...stale].sort())
      expect(removed.dirs).toContain(staleDir)
      expect(existsSync(staleDir)).toBe(false)
      const left = ours(ip('netns', 'list'), `${PREFIX}-`)
      expect(left).toContain(live)
      for (const ns of stale) expect(left).not.toContain(ns)
    })
  },
)
