import { createServer } from 'node:net'
import { waitFor } from '@grapevine/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ClusterKeyError,
  createHost,
  generateClusterKey,
  generatePrivateKey,
  type Host,
  type HostInit,
  marshalPrivateKey,
  parseClusterKey,
  peerIdOf,
  unmarshalPrivateKey,
} from '../src/index.js'

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

describe('identity', () => {
  it('a marshalled key gives the same peer id back', async () => {
    const key = await generatePrivateKey()
    const again = unmarshalPrivateKey(marshalPrivateKey(key))
    expect(peerIdOf(again)).toBe(peerIdOf(key))
    const host = await createHost({ cluster: 'test', privateKey: again, mdns: false })
    expect(host.peerId).toBe(peerIdOf(key))
  })
})

describe('cluster key', () => {
  it('generates swarm.key text that parses, as text, bytes or bare hex', () => {
    const text = generateClusterKey()
    expect(text.split('\n').slice(0, 2)).toEqual(['/key/swarm/psk/1.0.0/', '/base16/'])
    const bytes = parseClusterKey(text)
    expect(parseClusterKey(new TextEncoder().encode(text))).toEqual(bytes)
    expect(parseClusterKey(text.split('\n')[2]!)).toEqual(bytes)
    expect(parseClusterKey(text.replace(/\n/g, '\r\n'))).toEqual(bytes)
  })

  it('rejects keys that are not swarm keys, with a typed error', () => {
    for (const bad of [
      '',
      'abc',
      '/key/swarm/psk/1.0.0/\n/base64/\nAAAA',
      `/wrong/\n/base16/\n${'ab'.repeat(32)}`,
      'zz'.repeat(32),
    ]) {
      expect(() => parseClusterKey(bad)).toThrow(ClusterKeyError)
    }
  })

  // Issue 12, friction point 2: error messages name CLI commands, not JavaScript methods.
  it('tells an operator to make a key with `grapevine keygen`', () => {
    expect(() => parseClusterKey('abc')).toThrow(/create one with `grapevine keygen`/)
  })
})

describe('host', () => {
  let hosts: Host[] = []
  afterEach(async () => {
    await Promise.all(hosts.map((host) => host.stop()))
    hosts = []
  })

  async function host(init: Partial<HostInit> = {}): Promise<Host> {
    const created = await createHost({
      cluster: 'test',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false,
      ...init,
    })
    hosts.push(created)
    await created.start()
    return created
  }

  it('rejects a bad cluster name', async () => {
    await expect(createHost({ cluster: 'a/b', mdns: false })).rejects.toMatchObject({
      code: 'ERR_VALIDATION',
      field: 'cluster',
    })
  })

  it('nodes with the same cluster key connect; a node without it cannot', async () => {
    const clusterKey = generateClusterKey()
    const a = await host({ clusterKey })
    const b = await host({ clusterKey, bootstrap: [a.addresses()[0]!] })
    await waitFor('A and B connect', () => a.connectedPeers().includes(b.peerId), {
      timeoutMs: 5_000,
    })

    const outsider = await host({ redial: { dialTimeout: 1_000 } })
    await expect(outsider.dial(a.addresses()[0]!)).rejects.toThrow()
    const otherKey = await host({
      clusterKey: generateClusterKey(),
      redial: { dialTimeout: 1_000 },
    })
    await expect(otherKey.dial(a.addresses()[0]!)).rejects.toThrow()
    expect(a.connectedPeers()).toEqual([b.peerId])
  })

  it('skips its own address in the bootstrap list and redials a bootstrap peer that comes back', async () => {
    const privateKey = await generatePrivateKey()
    const first = await host({ privateKey })
    const address = first.addresses()[0]!
    const port = address.split('/')[4]!
    const a = await host({ bootstrap: [address], redial: { initialDelay: 100, maxDelay: 400 } })
    await waitFor(
      'A connects to the bootstrap peer',
      () => a.connectedPeers().includes(first.peerId),
      { timeoutMs: 5_000 },
    )

    await first.stop()
    await waitFor('A sees it go', () => a.connectedPeers().length === 0, { timeoutMs: 5_000 })
    // Same identity, same port: A's backoff redial finds it again.
    const back = await host({ privateKey, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    await waitFor('A reconnects', () => a.connectedPeers().includes(back.peerId), {
      timeoutMs: 5_000,
    })

    // A shared bootstrap list that contains the node itself does no harm.
    const ownPort = await freePort()
    const own = `/ip4/127.0.0.1/tcp/${ownPort}`
    const selfAware = await host({ listen: [own], bootstrap: [own, address] })
    await waitFor('connects to the other', () => selfAware.connectedPeers().includes(back.peerId), {
      timeoutMs: 5_000,
    })
    expect(selfAware.connectedPeers()).toEqual([back.peerId])
  })
})
