import { type Member, parseEndpoint, type ServiceInstance } from '@grapevine/core'
import { memberName } from '../daemon/node-name.js'
import { memberAddresses } from '../dns/dns-addresses.js'
import { VERSION_TAG_PREFIX } from './consul-registration.js'

/**
 * Grapevine's model in Consul's JSON (PascalCase, as Consul's API and its clients spell it).
 * Every answer is built from the agent's own view at the time of the request.
 */

/** The nodes an answer may name, by peer id: members of the cluster as Consul nodes. */
export interface NodeDirectory {
  readonly datacenter: string
  /** Consul node name of a peer id (its node name, or the id itself). */
  name(peerId: string): string
  /** The node's address: the first IP of its multiaddrs, else empty. */
  address(peerId: string): string
}

export function createNodeDirectory(members: readonly Member[], datacenter: string): NodeDirectory {
  const byId = new Map(members.map((member) => [member.id, member]))
  return {
    datacenter,
    name: (peerId) => {
      const member = byId.get(peerId)
      return member === undefined ? peerId : memberName(member)
    },
    address: (peerId) => {
      const member = byId.get(peerId)
      return member === undefined ? '' : (memberAddresses(member)[0] ?? '')
    },
  }
}

/** Tags as Consul clients see them: the instance's, plus `version=V` when it has a version. */
export function consulTags(instance: ServiceInstance): string[] {
  if (instance.version === '') return [...instance.tags]
  const tag = `${VERSION_TAG_PREFIX}${instance.version}`
  return instance.tags.includes(tag) ? [...instance.tags] : [...instance.tags, tag]
}

interface AddressPort {
  Address: string
  Port: number
}

function firstEndpoint(instance: ServiceInstance): AddressPort {
  for (const url of instance.endpoints) {
    try {
      const { host, port } = parseEndpoint(url)
      return { Address: host, Port: port }
    } catch {
      // not parseable: try the next
    }
  }
  return { Address: '', Port: 0 }
}

/**
 * Endpoint URLs by scheme, the first of each: go-kratos reads `TaggedAddresses` this way to
 * get every endpoint back with its scheme.
 */
function taggedAddresses(instance: ServiceInstance): Record<string, AddressPort> {
  const out: Record<string, AddressPort> = {}
  for (const url of instance.endpoints) {
    try {
      const { scheme, port } = parseEndpoint(url)
      out[scheme] ??= { Address: url, Port: port }
    } catch {
      // skip
    }
  }
  return out
}

function weights(instance: ServiceInstance) {
  const weight = Number(instance.metadata.weight)
  return { Passing: Number.isInteger(weight) && weight > 0 ? weight : 1, Warning: 1 }
}

/** `AgentService`: GET /v1/agent/services and the `Service` of a health entry. */
export function agentService(instance: ServiceInstance, directory: NodeDirectory) {
  const { Address, Port } = firstEndpoint(instance)
  return {
    ID: instance.id,
    Service: instance.name,
    Tags: consulTags(instance),
    Meta: { ...instance.metadata },
    Port,
    Address,
    TaggedAddresses: taggedAddresses(instance),
    Weights: weights(instance),
    EnableTagOverride: false,
    Datacenter: directory.datacenter,
  }
}

/** A Consul node: GET /v1/catalog/nodes and the `Node` of a health entry. */
export function consulNode(peerId: string, directory: NodeDirectory) {
  return {
    ID: '',
    Node: directory.name(peerId),
    Address: directory.address(peerId),
    Datacenter: directory.datacenter,
    TaggedAddresses: { lan: directory.address(peerId) },
    Meta: { 'grapevine-peer-id': peerId },
  }
}

/** `CatalogService`: GET /v1/catalog/service/:name. */
export function catalogService(instance: ServiceInstance, directory: NodeDirectory, index: number) {
  const service = agentService(instance, directory)
  const node = consulNode(instance.node, directory)
  return {
    ID: node.ID,
    Node: node.Node,
    Address: node.Address,
    Datacenter: node.Datacenter,
    TaggedAddresses: node.TaggedAddresses,
    NodeMeta: node.Meta,
    ServiceID: service.ID,
    ServiceName: service.Service,
    ServiceTags: service.Tags,
    ServiceAddress: service.Address,
    ServicePort: service.Port,
    ServiceMeta: service.Meta,
    ServiceTaggedAddresses: service.TaggedAddresses,
    ServiceWeights: service.Weights,
    ServiceEnableTagOverride: false,
    CreateIndex: index,
    ModifyIndex: index,
  }
}

/**
 * The checks a health answer shows for one instance: the node's `serfHealth` (alive, since the
 * instances of dead nodes are hidden), then each of the instance's checks as its owner
 * replicates them (id, name, status and the start of the output; the definitions stay on the
 * owner, so `Type` is empty). An instance registered without checks shows `service:<id>` with
 * its status instead. Same answer on every agent; the owner's /v1/agent/checks has the rest.
 */
export function healthChecks(instance: ServiceInstance, directory: NodeDirectory) {
  const node = directory.name(instance.node)
  const service = {
    ServiceID: instance.id,
    ServiceName: instance.name,
    ServiceTags: consulTags(instance),
    Type: '',
  }
  const replicated = instance.checks ?? []
  const checks =
    replicated.length > 0
      ? replicated.map((check) => ({
          Node: node,
          CheckID: check.id,
          Name: check.name,
          Status: check.status,
          Notes: '',
          Output: check.output,
          ...service,
        }))
      : [
          {
            Node: node,
            CheckID: `service:${instance.id}`,
            Name: `Service '${instance.name}' check`,
            Status: instance.status,
            Notes: 'the status the owning agent replicates',
            Output: '',
            ...service,
          },
        ]
  return [
    {
      Node: node,
      CheckID: 'serfHealth',
      Name: 'Serf Health Status',
      Status: 'passing',
      Notes: '',
      Output: 'Agent alive and reachable',
      ServiceID: '',
      ServiceName: '',
      ServiceTags: [],
      Type: '',
    },
    ...checks,
  ]
}

/** A health entry: GET /v1/health/service/:name. */
export function serviceEntry(instance: ServiceInstance, directory: NodeDirectory) {
  return {
    Node: consulNode(instance.node, directory),
    Service: agentService(instance, directory),
    Checks: healthChecks(instance, directory),
  }
}

/** Serf's member status codes, as /v1/agent/members reports them. */
const SERF_STATUS = { alive: 1, suspect: 1, left: 3, dead: 4 } as const

/** A Serf member: GET /v1/agent/members and `Member` of /v1/agent/self. */
export function serfMember(member: Member, datacenter: string) {
  const address = memberAddresses(member)[0] ?? ''
  const port = Number(/\/tcp\/(\d+)/.exec(member.addresses[0] ?? '')?.[1] ?? 0)
  return {
    Name: memberName(member),
    Addr: address,
    Port: port,
    Tags: { dc: datacenter, role: 'node', id: member.id, 'grapevine-state': member.state },
    Status: SERF_STATUS[member.state],
    ProtocolMin: 1,
    ProtocolMax: 5,
    ProtocolCur: 2,
    DelegateMin: 2,
    DelegateMax: 5,
    DelegateCur: 4,
  }
}
