import type { OriginQuota, ProfileTimings } from '@grapevine/core'

/** Timings a caller may override, in ms; see `PROFILES` in @grapevine/core for the defaults. */
export interface AgentTimings extends ProfileTimings {
  /** Longest wait for `ready` when peers were found but catching up does not finish. */
  readyTimeout: number
}

/** Options of `createAgent`. Every field is optional; the defaults make a LAN cluster. */
export interface AgentOptions {
  /**
   * Cluster name: only agents with the same name replicate each other (it names the pubsub
   * topic and is checked in sync). @default 'default'
   */
  cluster?: string
  /** Multiaddrs to listen on. @default ['/ip4/0.0.0.0/tcp/0'] */
  listen?: readonly string[]
  /** Multiaddrs to advertise instead of the listen addresses (behind NAT or in containers). */
  announce?: readonly string[]
  /** Multiaddrs (with /p2p/ id or without) of peers to dial at start and whenever disconnected. */
  bootstrap?: readonly string[]
  /**
   * This node's name for people: shown next to its peer id in `members()`, the CLI, the
   * dashboard and the metrics, and carried to peers by the membership protocol. Names need not
   * be unique (the peer id is the identity). @default the host name (`os.hostname()`)
   */
  nodeName?: string
  /** Find peers on the LAN by multicast DNS. @default true */
  mdns?: boolean
  /**
   * Directory for this node's identity, generation and own registrations. Without it the
   * agent keeps everything in memory: a restart is a new node with a timestamp generation.
   */
  dataDir?: string
  /**
   * Pre-shared key (libp2p private network, swarm.key text) so that only holders can join.
   * Without it, any node on the LAN running Grapevine with the same cluster name can join.
   */
  clusterKey?: string | Uint8Array
  /** `lan` detects failures fast (default); `wan` tolerates slow links. */
  profile?: 'lan' | 'wan'
  /** Overrides of single timings, in milliseconds. */
  timings?: Partial<AgentTimings>
  /**
   * Gossipsub IP-colocation score weight. Default 0 because a local or LAN cluster puts many
   * peers behind one IP, which the usual −5 would graylist past 10 peers.
   * @default 0
   */
  ipColocationWeight?: number
  /**
   * Shortest interval of HTTP and TCP checks and shortest TTL, in ms. Consul's 1 s keeps a
   * mistyped `1ms` from costing a core; tests lower it. @default 1000
   */
  minCheckInterval?: number
  /**
   * How often at most a change of a check's output alone replicates, in ms (Consul's
   * `check_update_interval`). Check statuses and first results replicate at once; outputs
   * (their first `LIMITS.checkOutputLength` characters) ride along. @default 300_000
   */
  checkUpdateInterval?: number
  /**
   * Fault injection for tests and chaos experiments. `dropDeltas` is the share (0–1) of
   * received DELTAs this node throws away, as if gossip lost them: anti-entropy must still
   * deliver every write. Never set it in production.
   */
  faults?: { dropDeltas?: number }
  /**
   * What this agent accepts from any one origin, and from how many (DELTA/sync input over a
   * limit is dropped, counted as `dropped.quota` and logged). The same limits refuse this
   * agent's own registrations past `quota.claims` with `QuotaExceededError`. Set them alike
   * on every node. @default { quota: { claims: 100_000, bytes: 64 MiB }, maxOrigins: 4_096 }
   */
  limits?: { quota?: Partial<OriginQuota>; maxOrigins?: number }
}
