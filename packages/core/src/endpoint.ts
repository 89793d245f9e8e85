import type { ServiceInstance } from './instance.js'

/** An endpoint URL taken apart, e.g. `grpc://10.0.0.5:9000?isSecure=false`. */
export interface Endpoint {
  readonly url: string
  readonly scheme: string
  readonly host: string
  readonly port: number
  readonly isSecure: boolean
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  http: 80,
  https: 443,
  ws: 80,
  wss: 443,
  grpc: 80,
  grpcs: 443,
}

const SECURE_SCHEMES = new Set(['https', 'wss', 'grpcs'])

/**
 * Parses an endpoint URL. `isSecure` follows the go-kratos query flag when present, else
 * the scheme. A port is required unless the scheme has a well-known default.
 */
export function parseEndpoint(url: string): Endpoint {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error(`"${url}" is not a URL (expected scheme://host:port)`)
  }
  const scheme = parsed.protocol.replace(/:$/, '')
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw new Error(`"${url}" has no valid scheme`)
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1')
  if (host === '') throw new Error(`"${url}" has no host`)
  const port = parsed.port ? Number(parsed.port) : DEFAULT_PORTS[scheme]
  if (port === undefined) throw new Error(`"${url}" needs a port (no default for ${scheme})`)
  const secureFlag = parsed.searchParams.get('isSecure')
  const isSecure = secureFlag === null ? SECURE_SCHEMES.has(scheme) : secureFlag === 'true'
  return { url, scheme, host, port, isSecure }
}

/** The instance's first endpoint with the given scheme, parsed; undefined when it has none. */
export function endpointFor(instance: ServiceInstance, scheme: string): Endpoint | undefined {
  for (const url of instance.endpoints) {
    const endpoint = parseEndpoint(url)
    if (endpoint.scheme === scheme) return endpoint
  }
  return undefined
}
