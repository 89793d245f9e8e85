import { execFileSync } from 'node:child_process'

/**
 * Two groups of test hosts, each in network namespaces of its own, on two bridges joined by
 * one veth "trunk". Taking the trunk down is a real network partition: packets between the
 * groups vanish (connections stall, new ones time out) while each side stays whole.
 */
export interface SplitNetwork {
  /** Namespace of every host; the first `sizes[0]` are on side A. */
  readonly hosts: readonly string[]
  address(index: number): string
  partition(): void
  heal(): void
  destroy(): void
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

export function createSplitNetwork(sideA: number, sideB: number): SplitNetwork {
  const tag = `${process.pid % 10000}${Math.floor(Math.random() * 100)}`
  const core = `gvs${tag}`
  const subnet = `10.${150 + (process.pid % 50)}.${Math.floor(Math.random() * 250)}`
  const hosts: string[] = []
  const destroy = () => {
    for (const ns of [...hosts, core]) {
      try {
        ip('netns', 'del', ns)
      } catch {
        // already gone
      }
    }
  }
  try {
    ip('netns', 'add', core)
    for (const bridge of ['br0', 'br1']) {
      ip('-n', core, 'link', 'add', bridge, 'type', 'bridge')
      ip('-n', core, 'link', 'set', bridge, 'up')
    }
    ip('-n', core, 'link', 'add', 'trunk0', 'type', 'veth', 'peer', 'name', 'trunk1')
    ip('-n', core, 'link', 'set', 'trunk0', 'master', 'br0')
    ip('-n', core, 'link', 'set', 'trunk1', 'master', 'br1')
    ip('-n', core, 'link', 'set', 'trunk0', 'up')
    ip('-n', core, 'link', 'set', 'trunk1', 'up')
    for (let i = 0; i < sideA + sideB; i++) {
      const ns = `gvs${tag}h${i}`
      ip('netns', 'add', ns)
      hosts.push(ns)
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      ip(
        'link',
        'add',
        'eth0',
        'netns',
        ns,
        'type',
        'veth',
        'peer',
        'name',
        `port${i}`,
        'netns',
        core,
      )
      ip('-n', ns, 'addr', 'add', `${subnet}.${i + 1}/24`, 'dev', 'eth0')
      ip('-n', ns, 'link', 'set', 'eth0', 'up')
      ip('-n', core, 'link', 'set', `port${i}`, 'master', i < sideA ? 'br0' : 'br1')
      ip('-n', core, 'link', 'set', `port${i}`, 'up')
    }
  } catch (err) {
    destroy()
    throw err
  }
  return {
    hosts,
    address: (i) => `${subnet}.${i + 1}`,
    partition: () => ip('-n', core, 'link', 'set', 'trunk0', 'down'),
    heal: () => ip('-n', core, 'link', 'set', 'trunk0', 'up'),
    destroy,
  }
}
