import { type Discovery, type ServiceQuery, ValidationError, validateName } from '@grapevine/core'
import { experimental, status } from '@grpc/grpc-js'
import { toCandidates } from './candidates.js'
import { applyFilters, type Filter } from './filters.js'
import { type Following, followService } from './follow.js'

type ResolverConstructor = Parameters<typeof experimental.registerResolver>[1]
type GrpcUri = ConstructorParameters<ResolverConstructor>[0]
type ChannelOptions = ConstructorParameters<ResolverConstructor>[2]
type ResolverListener = experimental.ResolverListener
type ServiceConfigResult = Parameters<ResolverListener>[2]
type GrpcEndpoint = experimental.Endpoint

export interface GrpcResolverInit {
  /** URI scheme the resolver answers: channels to `SCHEME:///SERVICE` use it. @default 'grapevine' */
  scheme?: string
  /** Endpoint schemes that carry gRPC; each instance's first match is used. @default ['grpc', 'grpcs'] */
  endpointSchemes?: readonly string[]
  /** Passed to every watch, merged under the target's own query parameters. */
  query?: ServiceQuery
  /** Applied to every service's instances. */
  filters?: readonly Filter[]
  /**
   * The grpc-js load-balancing policy the resolver asks for, unless the channel sets its own
   * `grpc.service_config`. `round_robin` spreads calls over every instance and stops using
   * one whose connection fails; `pick_first` sticks to one.
   * @default 'round_robin'
   */
  loadBalancingPolicy?: string
}

/** What a target names: `grapevine:///NAME?version=v1&tag=a&tag=b&metadata.zone=eu`. */
export interface GrpcTarget {
  readonly service: string
  readonly query: ServiceQuery
}

/** Parses the path of a `grapevine:` target; throws `ValidationError` for a bad name. */
export function parseGrpcTarget(path: string, base: ServiceQuery = {}): GrpcTarget {
  const [name = '', search = ''] = path.replace(/^\/+/, '').split('?', 2)
  const service = validateName(decodeURIComponent(name), 'target service name')
  const params = new URLSearchParams(search)
  const query: ServiceQuery = { ...base }
  const version = params.get('version')
  if (version !== null) query.version = version
  const tags = params.getAll('tag')
  if (tags.length > 0) query.tags = [...(base.tags ?? []), ...tags]
  const metadata: Record<string, string> = { ...base.metadata }
  for (const [key, value] of params) {
    if (key.startsWith('metadata.')) metadata[key.slice('metadata.'.length)] = value
    else if (key !== 'version' && key !== 'tag') {
      throw new ValidationError(
        `target parameter "${key}"`,
        'expected version, tag or metadata.KEY',
      )
    }
  }
  if (Object.keys(metadata).length > 0) query.metadata = metadata
  return { service, query }
}

function endpointsKey(endpoints: readonly GrpcEndpoint[]): string {
  return endpoints.map((e) => JSON.stringify(e.addresses)).join(',')
}

/**
 * Registers a grpc-js resolver so that channels to `grapevine:///SERVICE` follow the registry:
 * the resolver watches the service through `discovery` and hands the channel every
 * instance's gRPC endpoint as an address, on every change; the channel's load-balancing
 * policy (round-robin by default) spreads calls over them and routes around an address
 * whose connection fails. When no instance is left the channel gets an empty list and fails
 * calls with UNAVAILABLE at once. Registering again for a scheme replaces the previous
 * registration for channels created afterwards. Uses grpc-js's experimental resolver API.
 */
export function registerGrapevineResolver(discovery: Discovery, init: GrpcResolverInit = {}): void {
  const scheme = init.scheme ?? 'grapevine'
  const endpointSchemes = init.endpointSchemes ?? ['grpc', 'grpcs']
  const filters = init.filters ?? []
  const policy = init.loadBalancingPolicy ?? 'round_robin'

  class GrapevineResolver implements experimental.Resolver {
    static getDefaultAuthority(target: GrpcUri): string {
      return parseGrpcTarget(target.path).service
    }

    private readonly target: GrpcTarget
    private readonly serviceConfig: ServiceConfigResult
    private following: Following | undefined
    private latest: GrpcEndpoint[] | undefined
    private pushedKey: string | undefined
    /** False after `destroy()`: no listener calls until `updateResolution()` restarts. */
    private active = false

    constructor(
      uri: GrpcUri,
      private readonly listener: ResolverListener,
      options: ChannelOptions,
    ) {
      this.target = parseGrpcTarget(uri.path, init.query)
      // A resolver-supplied config beats the channel's default, so defer to the channel
      // when it chose one explicitly.
      this.serviceConfig =
        options['grpc.service_config'] === undefined
          ? experimental.statusOrFromValue({
              loadBalancingConfig: [{ [policy]: {} }],
              methodConfig: [],
            })
          : null
      this.start()
    }

    private start(): void {
      const { service, query } = this.target
      this.active = true
      try {
        // The watcher calls back asynchronously, as the Resolver contract requires.
        this.following = followService(discovery, service, query, (list) => {
          const candidates = toCandidates(applyFilters(list, filters), endpointSchemes)
          this.latest = candidates.map((c) => ({
            addresses: [{ host: c.endpoint.host, port: c.endpoint.port }],
          }))
          this.push()
        })
      } catch (err) {
        // A stopped agent: fail the channel's calls; its next request for addresses retries.
        const details = `cannot watch "${service}": ${err instanceof Error ? err.message : String(err)}`
        setImmediate(() => {
          if (!this.active || this.following !== undefined) return
          this.listener(
            experimental.statusOrFromError({ code: status.UNAVAILABLE, details }),
            {},
            null,
            '',
          )
        })
      }
    }

    /** Hands the latest list to the channel unless it already has it. */
    private push(): void {
      const endpoints = this.latest
      if (endpoints === undefined || this.following === undefined) return
      const key = endpointsKey(endpoints)
      if (key === this.pushedKey) return
      let accepted = this.listener(
        experimental.statusOrFromValue(endpoints),
        {},
        this.serviceConfig,
        '',
      )
      if (endpoints.length === 0) {
        // grpc-js's round_robin queues calls on an empty list until their deadline; after the
        // empty list has dropped the old addresses, an error makes it fail them at once.
        accepted = this.listener(
          experimental.statusOrFromError({
            code: status.UNAVAILABLE,
            details: `no instance of "${this.target.service}" has a ${endpointSchemes.join('/')} endpoint matching the query`,
          }),
          {},
          this.serviceConfig,
          '',
        )
      }
      // A rejected list is offered again on the channel's next request.
      this.pushedKey = accepted ? key : undefined
    }

    updateResolution(): void {
      if (this.following === undefined) {
        this.start()
        return
      }
      // Changes are pushed as they happen, so the channel (which asks again after every
      // connection failure) only needs an answer when it has not taken the latest list.
      setImmediate(() => this.push())
    }

    destroy(): void {
      const following = this.following
      this.active = false
      this.following = undefined
      this.latest = undefined
      this.pushedKey = undefined
      void following?.stop()
    }
  }

  experimental.registerResolver(scheme, GrapevineResolver)
}
