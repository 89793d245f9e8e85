import type { Claim } from '../src/claim.js'
import { type ServiceInstance, validateInstance } from '../src/instance.js'
import type { Delta, Replica, SyncPart } from '../src/replica-types.js'
import type { VersionVector } from '../src/version-vector.js'

export interface ClaimOptions {
  gen?: number
  vv?: VersionVector
  name?: string
}

/** A valid instance of service `name` owned by `node`. */
export function instanceOf(id: string, node: string, name = 'svc'): ServiceInstance {
  return validateInstance({ id, name, node, endpoints: ['http://10.0.0.1:8080'] })
}

/** A live claim by `origin` at `seq` (gen 1 and vv `{origin: seq}` unless given). */
export function live(origin: string, id: string, seq: number, options: ClaimOptions = {}): Claim {
  return claimOf(origin, id, seq, options, instanceOf(id, origin, options.name))
}

/** A tombstone by `origin` at `seq`. */
export function tomb(origin: string, id: string, seq: number, options: ClaimOptions = {}): Claim {
  return claimOf(origin, id, seq, options, null)
}

function claimOf(
  origin: string,
  id: string,
  seq: number,
  options: ClaimOptions,
  instance: ServiceInstance | null,
): Claim {
  return Object.freeze({
    origin,
    gen: options.gen ?? 1,
    seq,
    id,
    vv: Object.freeze(options.vv ?? { [origin]: seq }),
    instance,
  })
}

/** A DELTA carrying `claims` (all of one origin and gen); the range defaults to theirs. */
export function deltaOf(claims: readonly Claim[], fromSeq?: number, toSeq?: number): Delta {
  const first = claims[0]!
  return {
    origin: first.origin,
    gen: first.gen,
    fromSeq: fromSeq ?? first.seq,
    toSeq: toSeq ?? claims[claims.length - 1]!.seq,
    claims,
  }
}

export function fullPart(
  origin: string,
  covered: number,
  claims: readonly Claim[],
  gen = 1,
): SyncPart {
  return { origin, gen, full: true, after: 0, covered, claims }
}

export function incrementalPart(
  origin: string,
  after: number,
  covered: number,
  claims: readonly Claim[],
  gen = 1,
): SyncPart {
  return { origin, gen, full: false, after, covered, claims }
}

/** `origin:id@seq` (with `~` for tombstones), sorted: a readable, comparable claim set. */
export function claimSet(replica: Replica): string[] {
  const out: string[] = []
  for (const origin of Object.keys(replica.digest())) {
    for (const c of replica.claimsOf(origin)) {
      out.push(`${c.origin}/${c.gen}:${c.id}@${c.seq}${c.instance === null ? '~' : ''}`)
    }
  }
  return out.sort()
}

/** A settable monotonic clock. */
export function manualClock(start = 0): { now: () => number; advance: (ms: number) => void } {
  let time = start
  return {
    now: () => time,
    advance: (ms) => {
      time += ms
    },
  }
}
