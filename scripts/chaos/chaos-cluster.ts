/**
 * The chaos suite's cluster: agents as separate processes (test/support/agent-process.ts), one
 * service (`chaos`) followed on every agent, and a model of what every live agent should show.
 * It counts, from the agents' own events and views:
 * - lost: an acknowledged registration missing from a live agent once the cluster settled;
 * - resurrected: an agent showing a registration again after it had shown it removed, the
 *   removal being later (by the agents' shared wall clock) than the acknowledgement of its
 *   deregistration (each registration carries its own version, so a lagging agent that shows
 *   an older registration of a re-registered id is not counted; one that removed it earlier,
 *   as its node was thought dead, may rightly show it again until the deregistration arrives),
 *   or still showing a deregistered id once settled;
 * - dead-node-visible: an instance of a node that is down, shown by a live agent after the
 *   detection deadline (the lease plus slack) ran out.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AgentOptions } from '@grapevine/agent'
import type { ServiceInstance } from '@grapevine/core'
import {
  type AgentProcess,
  type FollowedEvent,
  startAgentProcess,
} from '../../test/support/agent-process.js'

export const SERVICE = 'chaos'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** `lan` declares a silent node dead after 2.5 s; detection may take a heartbeat or two more. */
export const DETECTION_MS = 5_000

export interface NodeSpec {
  /** Namespace to run in; 127.0.0.1 when absent. */
  netns?: string
  /** Address to listen on. @default 127.0.0.1 */
  host?: string
}

export interface ChaosNode {
  readonly index: number
  readonly spec: NodeSpec
  dataDir: string
  proc: AgentProcess | undefined
  peerId: string
  /** Wall time it went down (killed, stopped, left), or undefined while up. */
  downSince: number | undefined
  /** Peer ids of this node's earlier identities (an empty data dir makes a new one). */
  readonly formerIds: string[]
  restarts: number
}

export interface Counters {
  lost: number
  resurrected: number
  deadVisible: number
}

export interface ChaosClusterInit {
  label: string
  nodes: NodeSpec[]
  /** Upper bound of each agent process's life. */
  lifetimeMs: number
  options?: AgentOptions
}

const ids = (list: readonly ServiceInstance[]) =>
  list.map((instance) => `${instance.id}@${instance.node}`).sort()

/** Every cluster not yet stopped, so that the runner can kill their processes on exit. */
export const liveClusters = new Set<ChaosCluster>()

export class ChaosCluster {
  readonly nodes: ChaosNode[] = []
  /** id → index of the node that owns it now (acknowledged). */
  readonly expected = new Map<string, number>()
  /** Ids deregistered (or dropped by a restore) and not registered since. */
  readonly gone = new Set<string>()
  /**
   * `id#version` of every registration that was deregistered → when that was acknowledged
   * (wall ms): it must never show again after that.
   */
  private readonly deadVersions = new Map<string, number>()
  /** The version of each id's current registration. */
  private readonly versions = new Map<string, string>()
  /** `observer:id#version` → wall time of the observer's last delete event of it. */
  private readonly lastDelete = new Map<string, number>()
  private readonly resurrectedIds = new Set<string>()
  private readonly deadVisibleKeys = new Set<string>()
  private lostIds = new Set<string>()
  /** Recent operations per id, for the diagnosis printed with CHAOS_DEBUG=1. */
  private readonly history = new Map<string, string[]>()
  private readonly debug = process.env.CHAOS_DEBUG === '1'

  private note(id: string, what: string): void {
    if (!this.debug) return
    const list = this.history.get(id) ?? []
    list.push(`${Date.now() % 100_000} ${what}`)
    if (list.length > 16) list.shift()
    this.history.set(id, list)
  }
  /** With CHAOS_DEBUG=1: a disruption or restart, on stderr, with the same clock as the history. */
  private mark(what: string): void {
    if (this.debug) console.error(`chaos: ${Date.now() % 100_000} ${what}`)
  }
  private root = ''
  private serial = 0

  constructor(private readonly init: ChaosClusterInit) {
    liveClusters.add(this)
  }

  async start(): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), `grapevine-chaos-${process.pid}-${this.init.label}-`))
    for (const [index, spec] of this.init.nodes.entries()) {
      this.nodes.push({
        index,
        spec,
        dataDir: join(this.root, `node-${index}`),
        proc: undefined,
        peerId: '',
        downSince: undefined,
        formerIds: [],
        restarts: 0,
      })
    }
    for (const node of this.nodes) await this.boot(node)
    await Promise.all(this.nodes.map((node) => node.proc!.ready))
  }

  /** Addresses of every live agent but `except`, for bootstrapping. */
  private bootstrap(except: ChaosNode): string[] {
    return this.nodes
      .filter((n) => n !== except && n.proc && n.downSince === undefined)
      .flatMap((n) => n.proc!.addresses.slice(0, 1))
  }

  /** Starts (or restarts) a node's process on its data dir, and follows the service on it. */
  async boot(node: ChaosNode): Promise<void> {
    const host = node.spec.host ?? '127.0.0.1'
    const proc = await startAgentProcess(
      {
        cluster: `chaos-${this.init.label}-${process.pid}`,
        mdns: false,
        listen: [`/ip4/${host}/tcp/0`],
        bootstrap: this.bootstrap(node),
        dataDir: node.dataDir,
        ...this.init.options,
      },
      {
        ...(node.spec.netns !== undefined && { netns: node.spec.netns }),
        nodeArgs: [
          '--expose-gc',
          ...(process.env.CHAOS_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
        ],
        lifetimeMs: this.init.lifetimeMs,
      },
    )
    if (node.peerId !== '' && proc.peerId !== node.peerId) node.formerIds.push(node.peerId)
    node.proc = proc
    node.peerId = proc.peerId
    node.downSince = undefined
    this.mark(`node ${node.index} started as ${proc.peerId.slice(-6)}`)
    proc.onEvent((event) => this.observe(node, event))
    // An agent that exits while it should be up is a finding: say which, and how.
    void proc.exited.then((code) => {
      if (node.proc === proc && node.downSince === undefined && liveClusters.has(this)) {
        console.error(
          `chaos: node ${node.index} (${proc.peerId.slice(-6)}) exited unexpectedly, code ${code ?? 'none (signal)'}`,
        )
      }
    })
    await proc.call('follow', SERVICE)
  }

  private ownerOf(peerId: string): ChaosNode | undefined {
    return this.nodes.find((n) => n.peerId === peerId || n.formerIds.includes(peerId))
  }

  /** Checks every event a live agent reports against the model. */
  private observe(observer: ChaosNode, event: FollowedEvent): void {
    const registration = `${event.id}#${event.version}`
    const key = `${observer.index}:${registration}`
    if (event.op === 'delete') {
      this.note(event.id, `obs${observer.index} delete ${event.version} ${event.cause}`)
      this.lastDelete.set(key, event.t)
      return
    }
    this.note(
      event.id,
      `obs${observer.index} ${event.op} ${event.version} ${event.cause} @${this.ownerOf(event.node)?.index}`,
    )
    // Removed after its deregistration was acknowledged, and shown again: only stale state
    // can show it then. (Removed before, as its node was thought dead, it may rightly show
    // again from what the node held until the deregistration reaches this observer.)
    const deadSince = this.deadVersions.get(registration)
    const deletedAt = this.lastDelete.get(key)
    if (
      event.op === 'add' &&
      deadSince !== undefined &&
      deletedAt !== undefined &&
      deletedAt >= deadSince
    ) {
      this.resurrectedIds.add(event.id)
      if (this.debug) {
        console.error(
          `chaos: resurrected ${event.id} on ${observer.index} (restarts ${observer.restarts}) by ${event.node.slice(-6)}: ${this.history.get(event.id)?.join(' | ')}`,
        )
      }
    }
    const owner = this.ownerOf(event.node)
    if (owner !== undefined && owner !== observer && this.isDeadNow(owner, event.node)) {
      this.deadVisibleKeys.add(`${observer.index}:${event.id}@${event.node}`)
    }
  }

  /** True when `peerId` of `owner` is down for longer than the detection deadline. */
  private isDeadNow(owner: ChaosNode, peerId: string): boolean {
    if (owner.formerIds.includes(peerId)) return true // an identity that will never return
    return owner.downSince !== undefined && Date.now() - owner.downSince > DETECTION_MS
  }

  up(): ChaosNode[] {
    return this.nodes.filter((n) => n.proc !== undefined && n.downSince === undefined)
  }

  nextId(prefix = 'i'): string {
    return `${prefix}-${this.serial++}`
  }

  async register(node: ChaosNode, id: string): Promise<void> {
    this.gone.delete(id)
    const version = `r${this.serial++}`
    this.versions.set(id, version)
    this.note(id, `register ${version} on ${node.index}`)
    await node.proc!.call('register', {
      id,
      name: SERVICE,
      version,
      endpoints: ['http://127.0.0.1:9'],
    })
    this.note(id, `registered on ${node.index}`)
    this.expected.set(id, node.index)
  }

  async deregister(node: ChaosNode, id: string): Promise<void> {
    this.gone.add(id)
    const version = this.versions.get(id)
    this.expected.delete(id)
    this.note(id, `deregister on ${node.index}`)
    await node.proc!.call('deregister', id)
    if (version !== undefined) this.deadVersions.set(`${id}#${version}`, Date.now())
    this.note(id, `deregistered on ${node.index}`)
  }

  /** kill -9, SIGSTOP, or a graceful leave. */
  async takeDown(node: ChaosNode, how: 'SIGKILL' | 'SIGSTOP' | 'leave'): Promise<void> {
    this.mark(`${how} node ${node.index}`)
    node.downSince = Date.now()
    if (how === 'leave') {
      await node.proc!.call('leave').catch(() => undefined)
      await node.proc!.exited
    } else await node.proc!.signal(how)
  }

  async resume(node: ChaosNode): Promise<void> {
    this.mark(`SIGCONT node ${node.index}`)
    await node.proc!.signal('SIGCONT')
    node.downSince = undefined
  }

  async restart(node: ChaosNode, dataDir: 'same' | 'empty' | string): Promise<void> {
    node.restarts++
    this.mark(`restart node ${node.index} (${dataDir})`)
    if (dataDir === 'empty') {
      node.dataDir = join(this.root, `node-${node.index}-empty-${node.restarts}`)
      // Its registrations die with its old identity.
      for (const [id, owner] of this.expected) {
        if (owner === node.index) {
          this.expected.delete(id)
          this.gone.add(id)
          const version = this.versions.get(id)
          if (version !== undefined) this.deadVersions.set(`${id}#${version}`, Date.now())
        }
      }
    } else if (dataDir !== 'same') {
      await rm(node.dataDir, { recursive: true, force: true })
      await cp(dataDir, node.dataDir, { recursive: true })
    }
    await this.boot(node)
  }

  /** Copies a node's data dir (as a backup would, while it runs). */
  async backup(node: ChaosNode): Promise<string> {
    const target = join(this.root, `backup-${node.index}-${this.serial++}`)
    await cp(node.dataDir, target, { recursive: true })
    return target
  }

  /**
   * The model after restoring `node` from a copy holding `copyIds`: exactly those are its own
   * now; what it registered since the copy is gone, what it deregistered since is back.
   */
  restoredFrom(node: ChaosNode, copy: readonly { id: string; version?: string }[]): void {
    const copyIds = copy.map(({ id, version }): [string, string] => [id, version ?? ''])
    for (const [id, owner] of [...this.expected]) {
      if (owner === node.index && !copy.some((entry) => entry.id === id)) {
        this.expected.delete(id)
        this.gone.add(id)
        const version = this.versions.get(id)
        if (version !== undefined) this.deadVersions.set(`${id}#${version}`, Date.now())
      }
    }
    for (const [id, version] of copyIds) {
      this.gone.delete(id)
      this.deadVersions.delete(`${id}#${version}`)
      for (const other of this.nodes) this.lastDelete.delete(`${other.index}:${id}#${version}`)
      this.versions.set(id, version)
      this.expected.set(id, node.index)
    }
  }

  private expectedView(): string[] {
    return [...this.expected].map(([id, owner]) => `${id}@${this.nodes[owner]!.peerId}`).sort()
  }

  /** Polls until every live agent shows exactly the model; returns seconds, or NaN on timeout. */
  async converge(timeoutMs = 30_000): Promise<number> {
    const started = performance.now()
    const want = this.expectedView().join(',')
    let views: string[][] = []
    while (performance.now() - started < timeoutMs) {
      views = await Promise.all(
        this.up().map((n) => n.proc!.call<ServiceInstance[]>('getService', SERVICE).then(ids)),
      )
      if (views.every((view) => view.join(',') === want)) {
        return (performance.now() - started) / 1000
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    // Not converged: what differs counts as lost (missing) or resurrected (shown, but gone).
    const wanted = new Set(this.expectedView())
    for (const view of views) {
      for (const entry of wanted) if (!view.includes(entry)) this.lostIds.add(entry)
      for (const entry of view) {
        const id = entry.slice(0, entry.lastIndexOf('@'))
        if (this.gone.has(id)) this.resurrectedIds.add(id)
      }
    }
    return Number.NaN
  }

  /** Samples every live agent's view for instances of a node down past the deadline. */
  async checkDeadInvisible(): Promise<void> {
    for (const observer of this.up()) {
      const list = await observer.proc!.call<ServiceInstance[]>('getService', SERVICE)
      for (const instance of list) {
        const owner = this.ownerOf(instance.node)
        if (owner !== undefined && owner !== observer && this.isDeadNow(owner, instance.node)) {
          this.deadVisibleKeys.add(`${observer.index}:${instance.id}@${instance.node}`)
        }
      }
    }
  }

  /** Heap after GC of every live agent, MiB. */
  async heaps(): Promise<number[]> {
    return Promise.all(
      this.up().map((n) =>
        n.proc!.call<{ heapUsed: number }>('memory').then((m) => m.heapUsed / 2 ** 20),
      ),
    )
  }

  counters(): Counters {
    return {
      lost: this.lostIds.size,
      resurrected: this.resurrectedIds.size,
      deadVisible: this.deadVisibleKeys.size,
    }
  }

  async stop(): Promise<void> {
    liveClusters.delete(this)
    await Promise.all(
      this.nodes.map(async (n) => {
        if (n.proc === undefined) return
        await n.proc.signal('SIGCONT').catch(() => undefined)
        // A profiled agent (CHAOS_NODE_ARGS=--cpu-prof) writes its profile only on a clean exit.
        if (process.env.CHAOS_NODE_ARGS !== undefined && n.downSince === undefined) {
          await Promise.race([n.proc.call('stop').catch(() => undefined), sleep(5_000)])
          await Promise.race([n.proc.exited, sleep(5_000)])
        }
        await n.proc.signal('SIGKILL').catch(() => undefined)
      }),
    )
    await rm(this.root, { recursive: true, force: true })
  }

  /** SIGKILLs every agent at once (for process exit). */
  killNow(): void {
    for (const n of this.nodes) {
      try {
        if (n.proc !== undefined) process.kill(n.proc.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
}
