import { execFileSync } from 'node:child_process'

/**
 * Test hosts in network namespaces that the test makes itself: a bridge in a namespace of its
 * own and one namespace per host, joined by veth pairs, each with a multicast route (without
 * it mDNS fails silently). Multicast never reaches the machine's real network.
 */
export interface TestNetwork {
  /** Namespace names, one per host. */
  readonly hosts: readonly string[]
  /** The host's address on the test bridge. */
  address(index: number): string
  destroy(): void
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function namespaceUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root'
  const probe = `gvprobe${process.pid}`
  try {
    ip('netns', 'add', probe)
    ip('netns', 'del', probe)
    return undefined
  } catch (err) {
    return `ip netns add failed: ${(err as Error).message.split('\n')[0]}`
  }
}

export function createTestNetwork(hostCount: number): TestNetwork {
  // Short unique names: interface names are limited to 15 characters.
  const tag = `${process.pid % 10000}${Math.floor(Math.random() * 100)}`
  const bridgeNs = `gvb${tag}`
  const hosts: string[] = []
  const subnet = `10.${200 + (process.pid % 50)}.${Math.floor(Math.random() * 250)}`
  const destroy = () => {
    for (const ns of [...hosts, bridgeNs]) {
      try {
        ip('netns', 'del', ns)
      } catch {
        // already gone
      }
    }
  }
  try {
    ip('netns', 'add', bridgeNs)
    ip('-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge')
    ip('-n', bridgeNs, 'link', 'set', 'br0', 'up')
    for (let i = 0; i < hostCount; i++) {
      const ns = `gvh${tag}x${i}`
      ip('netns', 'add', ns)
      hosts.push(ns)
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      ip(
        'link',
        'add',
        `gv${tag}a${i}`,
        'netns',
        ns,
        'type',
        'veth',
        'peer',
        'name',
        `gv${tag}b${i}`,
        'netns',
        bridgeNs,
      )
      ip('-n', ns, 'link', 'set', `gv${tag}a${i}`, 'name', 'eth0')
      ip('-n', ns, 'addr', 'add', `${subnet}.${i + 1}/24`, 'dev', 'eth0')
      ip('-n', ns, 'link', 'set', 'eth0', 'up')
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0')
      ip('-n', bridgeNs, 'link', 'set', `gv${tag}b${i}`, 'master', 'br0')
      ip('-n', bridgeNs, 'link', 'set', `gv${tag}b${i}`, 'up')
    }
  } catch (err) {
    destroy()
    throw err
  }
  return { hosts, address: (i) => `${subnet}.${i + 1}`, destroy }
}
