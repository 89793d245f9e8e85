import { createLocalAgent, type Member, type Registration } from '@grapevine/core'
import pino from 'pino'
import type { ClusterLauncher, DemoNode } from '../../src/demo/cluster-launcher.js'
import type { ApiAgent } from '../../src/http/agent-extensions.js'
import { createHttpApi, type HttpApi } from '../../src/http/http-api.js'

export interface FakeLauncher extends ClusterLauncher {
  readonly cleanups: number
  /** Node names whose API is still open. */
  running(): string[]
}

/**
 * A demo launcher without processes or network: every node is an HTTP API in this process over
 * one shared local agent, so registrations "converge" at once. Killing a node closes its API,
 * marks it dead in every node's members and removes its instances, as expiry would.
 */
export function createFakeLauncher(
  init: {
    label?: string
    description?: string
    available?: true | string
    startDelay?: Promise<void>
  } = {},
): FakeLauncher {
  const world = createLocalAgent({ nodeId: 'world' })
  const nodes: Array<{
    name: string
    peerId: string
    alive: boolean
    api: HttpApi
    owned: Set<string>
  }> = []
  let cleanups = 0

  const members = (self: string): Member[] =>
    nodes.map((n) => ({
      id: n.peerId,
      addresses: [],
      state: n.alive ? 'alive' : 'dead',
      gen: 1,
      lastHeardMsAgo: 0,
      self: n.peerId === self,
    }))

  return {
    label: init.label ?? 'fake',
    description: init.description ?? 'fake: in-process APIs over one local agent',
    available: async () => init.available ?? true,
    async start(count) {
      await init.startDelay
      const started: DemoNode[] = []
      for (let i = 1; i <= count; i++) {
        const peerId = `peer-${i}`
        const owned = new Set<string>()
        const agent: ApiAgent = {
          ...world,
          peerId,
          members: () => members(peerId),
          async register(registration: Registration) {
            const id = await world.register(registration)
            owned.add(id)
            return id
          },
        }
        const api = createHttpApi({ agent, logger: pino({ level: 'silent' }) })
        const httpUrl = await api.listen('127.0.0.1:0')
        const entry = { name: `node-${i}`, peerId, alive: true, api, owned }
        nodes.push(entry)
        let markExited!: (code: number | null) => void
        const exited = new Promise<number | null>((resolve) => {
          markExited = resolve
        })
        started.push({
          name: entry.name,
          peerId,
          addresses: [`/ip4/127.0.0.1/tcp/${4000 + i}/p2p/${peerId}`],
          httpUrl,
          exited,
          logTail: () => `${entry.name} log`,
          kill() {
            if (!entry.alive) return
            entry.alive = false
            void (async () => {
              await api.close()
              for (const id of owned) await world.deregister(id)
              markExited(null)
            })()
          },
        })
      }
      return started
    },
    async cleanup() {
      cleanups += 1
      for (const node of nodes) {
        node.alive = false
        await node.api.close()
      }
      await world.stop()
    },
    get cleanups() {
      return cleanups
    },
    running: () => nodes.filter((n) => n.alive).map((n) => n.name),
  }
}
