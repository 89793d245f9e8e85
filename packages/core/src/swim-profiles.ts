import type { SwimTimings } from './membership-types.js'

/**
 * The membership protocol's part of the `lan` and `wan` profiles (`profiles.ts`).
 *
 * `lan`: a killed process is gone everywhere within 1 s (its connections reset, so its peers
 * probe it at once and the probes fail fast); a silent one (SIGSTOP, frozen VM, pulled cable)
 * within 3 s; a paused one is back within 1 s of resuming. With n members the minimum
 * suspicion is `1 · max(1, log10 n) · 500 ms`: 0.5 s at 10, 0.74 s at 30, 1 s at 100.
 */
const LAN: Readonly<SwimTimings> = Object.freeze({
  /**
   * 500 ms: each node sends one PING (and answers about one) per period whatever the
   * cluster size, ~2 small datagrams a second: an idle cost that does not grow with n. On a
   * 2-core VM every wake-up of a Node process costs ~0.3 ms, so 250 ms probing alone took
   * ~0.8% of a core; kill -9 detection does not wait for the round-robin (a reset connection
   * is probed at once), and a silent member is still found well within 3 s.
   */
  probeInterval: 500,
  /**
   * 150 ms: a LAN ack comes back in well under a millisecond; this covers a GC pause or a
   * busy event loop. Local health stretches it up to 8× on a starved node.
   */
  probeTimeout: 150,
  /** 3 helpers for indirect probes (memberlist's default): tolerates a lossy path or two. */
  indirectChecks: 3,
  /**
   * 1: the minimum suspicion (all confirmations in) is max(1, log10 n) periods, the same
   * time as 2 periods of the former 250 ms, so a confirmed crash is declared as fast.
   */
  suspicionMult: 1,
  /** 6: one lone accuser (no confirmation) gives the suspect 6× the minimum to refute. */
  suspicionMaxMult: 6,
  /** 4 (memberlist's default): each update rides on 4 · ceil(log10(n + 1)) messages. */
  retransmitMult: 4,
  /** 8 (memberlist's default): a starved node waits up to 8× longer before accusing. */
  awarenessMax: 8,
  /** 30 s (memberlist's LAN default): a full table exchange with one random member. */
  pushPullInterval: 30_000,
  /** 1 s: one dead member is pinged per second, so a healed partition rejoins in seconds. */
  reconnectInterval: 1_000,
})

/** `wan`: lossy links with RTTs in the hundreds of ms; overrides what differs from `lan`. */
const WAN: Readonly<SwimTimings> = Object.freeze({
  ...LAN,
  /** 2 s: probes cross expensive links; 8× fewer than LAN. */
  probeInterval: 2_000,
  /** 1 s: several round trips of a slow link. */
  probeTimeout: 1_000,
  /** 4: lossy links miss acks routinely; give suspects longer to refute. */
  suspicionMult: 4,
  /** 60 s: table exchanges cross the WAN. */
  pushPullInterval: 60_000,
  /** 10 s. */
  reconnectInterval: 10_000,
})

export const SWIM_PROFILES: Readonly<Record<'lan' | 'wan', Readonly<SwimTimings>>> = Object.freeze({
  lan: LAN,
  wan: WAN,
})
