/**
 * `grapevine agent` warns when it runs without a cluster key on an address other hosts can
 * reach: then any host that reaches it and uses the same cluster name joins the cluster,
 * reads every instance, and may register its own (README, Security). The cluster name is not
 * access control.
 */
const LOOPBACK = [/^\/ip4\/127\./, /^\/ip6\/::1\//, /^\/dns4?\/localhost\//]

/** The warning to log, or undefined when keyed or listening on loopback only. */
export function unkeyedWarning(listen: readonly string[], keyed: boolean): string | undefined {
  if (keyed) return undefined
  const exposed = listen.filter((address) => !LOOPBACK.some((pattern) => pattern.test(address)))
  if (exposed.length === 0) return undefined
  return `no cluster key, and listening on ${exposed.join(', ')}: any host that reaches this node and uses the same cluster name can join, read every instance and register its own. Give every node the same --cluster-key-file (a libp2p swarm.key).`
}
