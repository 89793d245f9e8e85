import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Digest } from '@grapevine/core'
import {
  decodeSyncFrame,
  encodeSyncFrame,
  MessageType,
  PROTOCOL_VERSION,
  SYNC_PROTOCOL,
} from '@grapevine/gossip'
import type { RawPeer } from '@grapevine/gossip/testing'
import type { AttackerConfig } from './hostile-attacker-main.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')

export interface FloodReport {
  ms: number
  counts: Record<string, number>
  topicKinds: Record<string, number>
  partKinds: Record<string, number>
  partsPlanned: number
  cutReasons: Record<string, number>
}

export interface AttackerProcess {
  readonly peerId: string
  /** Runs the flood; resolves with what was sent. */
  flood(): Promise<FloodReport>
  stop(): Promise<void>
}

/** Starts the attacker process (hostile-attacker-main.ts); resolves once its frames are built. */
export async function startAttacker(config: AttackerConfig): Promise<AttackerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--conditions=@grapevine/source',
      '--import',
      'tsx',
      join(here, 'hostile-attacker-main.ts'),
      JSON.stringify(config),
    ],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const waiters = new Map<string, (message: Record<string, unknown>) => void>()
  const next = (event: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      waiters.set(event, resolve)
      exited.then(() => reject(new Error(`attacker exited before "${event}"`)))
    })
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let message: Record<string, unknown>
    try {
      message = JSON.parse(line) as Record<string, unknown>
    } catch {
      return
    }
    const waiter = waiters.get(String(message.event))
    waiters.delete(String(message.event))
    waiter?.(message)
  })
  const ready = await next('ready')
  return {
    peerId: String(ready.peerId),
    async flood() {
      const done = next('done')
      child.stdin!.write('flood\n')
      return (await done) as unknown as FloodReport
    },
    async stop() {
      if (child.exitCode === null) child.stdin!.write('stop\n')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** A node's digest as it answers any member's SYN (one sync round from a raw peer). */
export async function digestOf(
  peer: RawPeer,
  cluster: string,
  node: { peerId: string; addresses: readonly string[] },
): Promise<Digest> {
  await peer.dial(node.addresses[0]!)
  const session = await peer.open(node.peerId, SYNC_PROTOCOL)
  await session.lp.write(
    encodeSyncFrame({ v: PROTOCOL_VERSION, t: MessageType.SYN, cluster, digest: {} }),
  )
  const ack = decodeSyncFrame((await session.lp.read()).subarray(), 8 * 1024 * 1024)
  if (ack.t !== MessageType.ACK) throw new Error(`expected ACK, got ${ack.t}`)
  await session.lp.write(encodeSyncFrame({ v: PROTOCOL_VERSION, t: MessageType.ACK2, parts: [] }))
  await session.stream.close()
  return ack.want
}
