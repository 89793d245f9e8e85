/** One agent of the demo cluster. */
export interface DemoNode {
  /** `node-1`, `node-2`, … */
  readonly name: string
  readonly peerId: string
  /** Multiaddrs the agent reported. */
  readonly addresses: readonly string[]
  /** Base URL of its HTTP API. */
  readonly httpUrl: string
  /** `host:port` of its DNS interface (UDP and TCP); undefined when DNS is off. */
  readonly dnsAddr?: string
  kill(signal: NodeJS.Signals): void
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>
  /** The last lines the agent logged, for error messages. */
  logTail(lines: number): string
}

/**
 * A way to start the demo's agents on this machine. The demo tries launchers in order and uses
 * the first that is available: mDNS auto-join inside network namespaces where they can be made,
 * loopback with a bootstrap address otherwise.
 */
export interface ClusterLauncher {
  /** The strategy in a few words, e.g. `loopback bootstrap`; the summary names it. */
  readonly label: string
  /** What the demo tells the user at start, e.g. `loopback: every node on 127.0.0.1, …`. */
  readonly description: string
  /** `true`, or why this launcher cannot run here. */
  available(): Promise<true | string>
  /** Starts `count` agents; they find each other on their own. `say` prints a progress line. */
  start(count: number, signal: AbortSignal, say?: (line: string) => void): Promise<DemoNode[]>
  /** Stops every agent it started and removes what it created; safe to call twice. */
  cleanup(): Promise<void>
}
