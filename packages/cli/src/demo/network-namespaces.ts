import { execFileSync, spawn } from 'node:child_process'
import { GrapevineError } from '@grapevine/core'

/** Thrown when an `ip` command that builds or removes the demo network fails. */
export class NamespaceNetworkError extends GrapevineError {
  static readonly code = 'ERR_NETNS'
  constructor(args: readonly string[], reason: string) {
    super(NamespaceNetworkError.code, `ip ${args.join(' ')} failed: ${reason}`)
  }
}

/**
 * A private LAN made of network namespaces: a bridge in a namespace of its own and one
 * namespace per host, each joined to the bridge by a veth with a multicast route (without that
 * route mDNS fails silently). Optionally the root namespace gets an address on the bridge too,
 * so that a process outside (the demo) can reach the hosts' HTTP APIs.
 */
export interface NetworkLayout {
  /** Start of every namespace name; sweeps of stale namespaces match on it. */
  prefix: string
  /** Process that owns the network; its namespaces are stale once it is gone. */
  owner: number
  /** Tells apart several networks of one owner. */
  serial: number
  hosts: number
  /** First three octets of the /24, e.g. `10.214.7`. */
  subnet: string
  /** Give the root namespace `<subnet>.254` on a veth into the bridge. */
  rootAccess: boolean
}

export interface NetworkPlan {
  /** The bridge's namespace; deleting it also removes the root-side veth. */
  readonly bridge: string
  /** One namespace per host. */
  readonly hosts: readonly string[]
  /** Host i's address on the bridge. */
  readonly addresses: readonly string[]
  /** The root namespace's veth and address, when `rootAccess`. */
  readonly root?: { link: string; address: string }
  /** `ip` argument lists, in order. */
  readonly setup: readonly (readonly string[])[]
  /** Every namespace to delete at teardown. */
  readonly namespaces: readonly string[]
}

/** Linux limits interface names to 15 characters (IFNAMSIZ - 1). */
const MAX_LINK_NAME = 15

/** `<prefix>-<owner pid>-<serial>-<br|nN>`: what a stale sweep parses. */
export function namespaceName(layout: NetworkLayout, role: string): string {
  return `${layout.prefix}-${layout.owner}-${layout.serial}-${role}`
}

/** The commands that build the network; pure, so that what it does is testable without root. */
export function planNetwork(layout: NetworkLayout): NetworkPlan {
  const bridge = namespaceName(layout, 'br')
  const setup: string[][] = [
    ['netns', 'add', bridge],
    ['-n', bridge, 'link', 'add', 'br0', 'type', 'bridge'],
    // No IPv6 link-local address on the bridge itself: what the bridge sends (router
    // solicitations, MLD) would be flooded to every port, the root namespace's included.
    ['-n', bridge, 'link', 'set', 'br0', 'addrgenmode', 'none'],
    ['-n', bridge, 'link', 'set', 'br0', 'up'],
  ]
  const hosts: string[] = []
  const addresses: string[] = []
  for (let i = 0; i < layout.hosts; i++) {
    const ns = namespaceName(layout, `n${i + 1}`)
    const port = `p${i + 1}`
    hosts.push(ns)
    addresses.push(`${layout.subnet}.${i + 1}`)
    setup.push(
      ['netns', 'add', ns],
      ['-n', ns, 'link', 'set', 'lo', 'up'],
      // Created inside the namespaces, so the names only need to be unique there.
      ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', bridge],
      ['-n', ns, 'addr', 'add', `${addresses[i]}/24`, 'dev', 'eth0'],
      ['-n', ns, 'link', 'set', 'eth0', 'up'],
      // mDNS sends to 224.0.0.251 by the route table: no route, no discovery, no error.
      ['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0'],
      ['-n', bridge, 'link', 'set', port, 'master', 'br0'],
      ['-n', bridge, 'link', 'set', port, 'up'],
    )
  }
  let root: NetworkPlan['root']
  if (layout.rootAccess) {
    const link = `${layout.prefix}${layout.owner.toString(36)}${layout.serial.toString(36)}`
    if (link.length > MAX_LINK_NAME) throw new Error(`link name ${link} is too long`)
    root = { link, address: `${layout.subnet}.254` }
    setup.push(
      ['link', 'add', link, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', bridge],
      ['-n', bridge, 'link', 'set', 'uplink', 'master', 'br0'],
      // The root namespace gets unicast only: the bridge floods no multicast to its port, so
      // the hosts' mDNS never reaches the root namespace (or, through it, the real network).
      ['-n', bridge, 'link', 'set', 'uplink', 'type', 'bridge_slave', 'mcast_flood', 'off'],
      ['-n', bridge, 'link', 'set', 'uplink', 'addrgenmode', 'none'],
      ['-n', bridge, 'link', 'set', 'uplink', 'up'],
      // Both ends of this veth likewise: it carries IPv4 unicast only.
      ['link', 'set', link, 'addrgenmode', 'none'],
      ['addr', 'add', `${root.address}/24`, 'dev', link],
      ['link', 'set', link, 'up'],
    )
  }
  return {
    bridge,
    hosts,
    addresses,
    ...(root === undefined ? {} : { root }),
    setup,
    namespaces: [...hosts, bridge],
  }
}

const toNumber = (address: string) =>
  address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0)

/** Whether `10.a.b.0/24` overlaps a route destination such as `10.0.0.0/8` or `192.0.2.2`. */
function overlaps(subnet: string, destination: string): boolean {
  const [address = '', bits = '32'] = destination.split('/')
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(address)) return false
  const width = Math.min(Number(bits), 24)
  const mask = width === 0 ? 0 : (0xffffffff << (32 - width)) >>> 0
  return (toNumber(`${subnet}.0`) & mask) >>> 0 === (toNumber(address) & mask) >>> 0
}

/**
 * A random `10.a.b` /24 that no route of the root namespace covers (the default route aside),
 * so the root-side address shadows nothing and two demos at once get different subnets.
 */
export function chooseSubnet(routeDestinations: readonly string[], random = Math.random): string {
  const taken = routeDestinations.filter((d) => d !== 'default')
  for (let attempt = 0; attempt < 200; attempt++) {
    const subnet = `10.${200 + Math.floor(random() * 50)}.${Math.floor(random() * 250) + 1}`
    if (!taken.some((destination) => overlaps(subnet, destination))) return subnet
  }
  throw new Error('no free 10.x.y.0/24 subnet for the demo network')
}

/**
 * Runs `ip`. Detached, so a Ctrl-C at the terminal (SIGINT to the whole foreground process
 * group) cannot stop it halfway through; the demo reacts to the signal and tears down itself.
 */
export function runIp(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk
    })
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk
    })
    child.once('error', (error) => reject(new NamespaceNetworkError(args, error.message)))
    child.once('close', (code, signal) => {
      if (code === 0) resolve(out)
      else reject(new NamespaceNetworkError(args, err.trim() || `exit ${code ?? signal}`))
    })
  })
}

/** Destinations of every IPv4 route of the root namespace, local table included. */
export async function rootRouteDestinations(): Promise<string[]> {
  const routes = JSON.parse(await runIp(['-j', '-4', 'route', 'show', 'table', 'all'])) as Array<{
    dst?: string
  }>
  return routes.flatMap((route) => (route.dst === undefined ? [] : [route.dst]))
}

/** A network that exists; `destroy` is idempotent and never throws. */
export interface NamespaceNetwork extends NetworkPlan {
  destroy(): Promise<void>
}

let serial = 0

/** Builds a network; on any failure removes what it made and throws. */
export async function createNamespaceNetwork(init: {
  prefix: string
  hosts: number
  rootAccess: boolean
}): Promise<NamespaceNetwork> {
  const subnet = chooseSubnet(init.rootAccess ? await rootRouteDestinations() : [])
  const plan = planNetwork({ ...init, owner: process.pid, serial: serial++, subnet })
  let destroyed: Promise<void> | undefined
  const destroy = () => {
    destroyed ??= (async () => {
      // The kernel frees a deleted namespace's links later, in the background: remove the
      // root-side veth ourselves so that `ip link` shows nothing of ours once we return.
      if (plan.root !== undefined) await runIp(['link', 'del', plan.root.link]).catch(() => {})
      for (const ns of plan.namespaces) await runIp(['netns', 'del', ns]).catch(() => {})
    })()
    return destroyed
  }
  try {
    for (const args of plan.setup) await runIp(args)
  } catch (err) {
    await destroy()
    throw err
  }
  return { ...plan, destroy }
}

/**
 * Why network namespaces with a bridge and veths cannot be made here, or undefined when they
 * can. Synchronous (a few `ip` calls, milliseconds) so that tests can decide what to skip.
 */
export function namespaceUnavailableReason(prefix = 'gvdemo'): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root'
  // Named like a network's namespaces, so that a sweep removes it if a crash leaves it behind.
  const probe = `${prefix}-${process.pid}-${serial++}-probe`
  const ip = (...args: string[]) =>
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 })
  try {
    ip('netns', 'add', probe)
  } catch (err) {
    const error = err as NodeJS.ErrnoException
    if (error.code === 'ENOENT') return 'the `ip` command (iproute2) is not installed'
    return `ip netns add failed: ${firstLine(error)}`
  }
  try {
    ip('-n', probe, 'link', 'add', 'br0', 'type', 'bridge')
    ip('-n', probe, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1')
    return undefined
  } catch (err) {
    return `cannot make a bridge and veths: ${firstLine(err as Error)}`
  } finally {
    try {
      ip('netns', 'del', probe)
    } catch {
      // Left for the next sweep of stale namespaces.
    }
  }
}

function firstLine(err: Error & { stderr?: Buffer | string }): string {
  const stderr = err.stderr?.toString().trim()
  return (stderr || err.message).split('\n')[0]!
}
