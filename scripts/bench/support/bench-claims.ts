import { type Claim, type Delta, validateClaim } from '../../../packages/core/src/index.js'

/**
 * The benchmarks' data set: instances spread over services, 2 endpoints and 3 metadata pairs
 * each, written by `origins` nodes, as validated claims in DELTAs of `deltaSize` the way a
 * node receives them from the network.
 */
export interface BenchClaimsInit {
  instances: number
  origins: number
  services: number
  deltaSize: number
}

/** One origin's writes, instances `origin * perOrigin …` onwards. */
export function originDeltas(init: BenchClaimsInit, origin: number): Delta[] {
  const perOrigin = init.instances / init.origins
  const deltas: Delta[] = []
  const originId = `node-${String(origin).padStart(3, '0')}`
  for (let from = 1; from <= perOrigin; from += init.deltaSize) {
    const claims: Claim[] = []
    for (let seq = from; seq < from + init.deltaSize && seq <= perOrigin; seq++) {
      const n = origin * perOrigin + seq - 1
      const id = `inst-${n}`
      const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`
      claims.push(
        validateClaim({
          origin: originId,
          gen: 1,
          seq,
          id,
          vv: { [originId]: seq },
          instance: {
            id,
            name: `service-${n % init.services}`,
            version: `v1.${n % 7}.0`,
            metadata: { zone: `zone-${n % 3}`, weight: String(n % 100), owner: `team-${n % 50}` },
            endpoints: [`grpc://${ip}:9000?isSecure=false`, `http://${ip}:8080`],
            tags: [n % 2 === 0 ? 'edge' : 'core'],
            status: 'passing',
            node: originId,
          },
        }),
      )
    }
    deltas.push({
      origin: originId,
      gen: 1,
      fromSeq: from,
      toSeq: from + claims.length - 1,
      claims,
    })
  }
  return deltas
}

/** Every origin's writes. */
export function benchDeltas(init: BenchClaimsInit): Delta[] {
  return Array.from({ length: init.origins }, (_, origin) => originDeltas(init, origin)).flat()
}
