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

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'

/**
 * The common form of an endpoint: `scheme://host:port[/path][?isSecure=true|false]`, the host
 * a dotted-quad IPv4 address or a lowercase DNS name whose last label starts with a letter.
 * For these strings WHATWG URL changes nothing and cannot fail (but on the port's range), so
 * they are taken apart here: URL costs about a microsecond per endpoint, two per claim, which
 * was an eighth of a 100k-instance join's CPU (every received claim is validated).
 * Anything else (IPv6, userinfo, other queries, upper case, punycode) goes through URL.
 */
const COMMON_FORM = new RegExp(
  `^([a-z][a-z0-9+.-]*)://((?:${OCTET}\\.){3}${OCTET}|(?:[a-z0-9-]{1,63}\\.)*[a-z][a-z0-9-]{0,62})` +
    ':([0-9]{1,5})(?:/[A-Za-z0-9._~/-]*)?(?:\\?isSecure=(true|false))?$',
)

/** `file:` takes no port and `ftp:` has a default we do not know: always through URL. */
const URL_ONLY_SCHEMES = new Set(['file', 'ftp'])

function parseCommonForm(url: string): Endpoint | undefined {
  const match = COMMON_FORM.exec(url)
  if (match === null) return undefined
  const [, scheme, host, portText, secureFlag] = match as unknown as [
    string,
    string,
    string,
    string,
    string | undefined,
  ]
  if (URL_ONLY_SCHEMES.has(scheme) || host.includes('xn--')) return undefined
  const port = Number(portText)
  if (port > 65_535) return undefined // URL's error message, from the general path
  const isSecure = secureFlag === undefined ? SECURE_SCHEMES.has(scheme) : secureFlag === 'true'
  return { url, scheme, host, port, isSecure }
}

/**
 * Parses an endpoint URL. `isSecure` follows the go-kratos query flag when present, else
 * the scheme. A port is required unless the scheme has a well-known default.
 */
export function parseEndpoint(url: string): Endpoint {
  return parseCommonForm(url) ?? parseWithUrl(url)
}

/** `parseEndpoint` through WHATWG URL, for every form; exported for the tests. */
export function parseWithUrl(url: string): Endpoint {
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
