import { execFileSync } from 'node:child_process'
// The network builder is the demo's (tests may import package source; src never imports tests).
import {
  chooseSubnet,
  planNetwork,
  namespaceUnavailableReason as unavailableReason,
} from '../../packages/cli/src/demo/network-namespaces.js'

/**
 * Test hosts in network namespaces that the test makes itself: a bridge in a namespace of its
 * own and one namespace per host, joined by veth pairs, each with a multicast route (without
 * it mDNS fails silently). Multicast never reaches the machine's real network: the root
 * namespace has no port on the bridge at all.
 */
export interface TestNetwork {
  /** Namespace names, one per host. */
  readonly hosts: readonly string[]
  /** The host's address on the test bridge. */
  address(index: number): string
  destroy(): void
}

const PREFIX = 'gvtest'
let serial = 0

function ip(args: readonly string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function namespaceUnavailableReason(): string | undefined {
  return unavailableReason(PREFIX)
}

/** Synchronous, so that a test can build it in one statement and tear it down in `afterAll`. */
export function createTestNetwork(hostCount: number): TestNetwork {
  const plan = planNetwork({
    prefix: PREFIX,
    owner: process.pid,
    serial: serial++,
    hosts: hostCount,
    subnet: chooseSubnet([]),
    rootAccess: false,
  })
  const destroy = () => {
    for (const ns of plan.namespaces) {
      try {
        ip(['netns', 'del', ns])
      } catch {
        // already gone
      }
    }
  }
  try {
    for (const args of plan.setup) ip(args)
  } catch (err) {
    destroy()
    throw err
  }
  return { hosts: plan.hosts, address: (i) => plan.addresses[i]!, destroy }
}
