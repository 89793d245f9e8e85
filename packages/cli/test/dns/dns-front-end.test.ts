import { createSocket } from 'node:dgram'
import { Resolver } from 'node:dns/promises'
import { connect } from 'node:net'
import { createLocalAgent } from '@grapevine/core'
import { seededRandom, waitFor } from '@grapevine/core/testing'
import * as dnsPacket from 'dns-packet'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { createDaemonContext } from '../../src/daemon/daemon-context.js'
import { createDnsFrontEnd, type DnsFrontEnd } from '../../src/dns/dns-front-end.js'

const decode = (bytes: Buffer) =>
  dnsPacket.decode(bytes) as dnsPacket.DecodedPacket & { rcode: string }
const logger = pino({ level: 'silent' })
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function startDns(address = '127.0.0.1:0') {
  const agent = createLocalAgent({ nodeId: 'node-a' })
  const dns = createDnsFrontEnd({ address, domain: 'grapevine', ttlMs: 0 })
  await dns.listen()
  cleanups.push(() => dns.stop())
  const context = createDaemonContext({ agent, logger, cluster: 'dc1' })
  cleanups.push(() => context.close())
  return {
    agent,
    dns,
    start: () => dns.start(context.ctx),
    resolver() {
      const resolver = new Resolver({ timeout: 2000, tries: 1 })
      resolver.setServers([dns.address!])
      return resolver
    },
  }
}

function query(name: string, type = 'A', id = 1): Buffer {
  return dnsPacket.encode({ id, type: 'query', questions: [{ name, type: type as 'A' }] })
}

function udpExchange(dns: DnsFrontEnd, message: Buffer): Promise<Buffer> {
  const [host, port] = [dns.address!.split(':')[0]!, Number(dns.address!.split(':')[1])]
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4')
    const timer = setTimeout(() => {
      socket.close()
      reject(new Error('no UDP answer'))
    }, 2000)
    socket.once('message', (reply) => {
      clearTimeout(timer)
      socket.close()
      resolve(reply)
    })
    socket.send(message, port, host)
  })
}

describe('DNS front end', () => {
  it('binds UDP and TCP on one port, answers SERVFAIL until started, then from the agent', async () => {
    const { agent, dns, start, resolver } = await startDns()
    expect(dns.address).toMatch(/^127\.0\.0\.1:\d+$/)
    const early = decode(await udpExchange(dns, query('web.service.grapevine')))
    expect(early.rcode).toBe('SERVFAIL')
    await start()
    await agent.register({ id: 'w1', name: 'web', endpoints: ['http://10.0.0.1:80'] })
    expect(await resolver().resolve4('web.service.grapevine')).toEqual(['10.0.0.1'])
    await expect(resolver().resolve4('nope.service.grapevine')).rejects.toMatchObject({
      code: 'ENOTFOUND',
    })
  })

  it('fails fast with a ListenError naming --dns-addr when the port is taken', async () => {
    const first = await startDns()
    const second = createDnsFrontEnd({ address: first.dns.address!, domain: 'grapevine', ttlMs: 0 })
    cleanups.push(() => second.stop())
    await expect(second.listen()).rejects.toMatchObject({
      code: 'ERR_LISTEN',
      message: expect.stringMatching(/DNS interface .* the address is in use.*--dns-addr/),
    })
  })

  it('answers pipelined queries on one TCP connection, each framed by its length', async () => {
    const { agent, dns, start } = await startDns()
    await start()
    await agent.register({ id: 'w1', name: 'web', endpoints: ['http://10.0.0.1:80'] })
    const [host, port] = dns.address!.split(':') as [string, string]
    const socket = connect({ host, port: Number(port) })
    cleanups.push(() => void socket.destroy())
    const frames = [
      query('web.service.grapevine', 'A', 11),
      query('nope.service.grapevine', 'A', 12),
    ]
    socket.write(Buffer.concat(frames.map((f) => Buffer.concat([Buffer.from([0, f.length]), f]))))
    let received = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
    })
    const replies = await waitFor('two framed replies', () => {
      const out: Array<ReturnType<typeof decode>> = []
      let at = 0
      while (received.length >= at + 2) {
        const length = received.readUInt16BE(at)
        if (received.length < at + 2 + length) break
        out.push(decode(received.subarray(at + 2, at + 2 + length)))
        at += 2 + length
      }
      return out.length === 2 && out
    })
    expect(replies.map((r) => [r.id, r.rcode])).toEqual([
      [11, 'NOERROR'],
      [12, 'NXDOMAIN'],
    ])
  })

  it('survives 10,000 malformed packets over UDP and TCP: no crash, the registry unchanged', async () => {
    const { agent, dns, start, resolver } = await startDns()
    await start()
    await agent.register({ id: 'w1', name: 'web', endpoints: ['http://10.0.0.1:80'] })
    const before = JSON.stringify([...agent.services({ includeCritical: true })])
    const random = seededRandom(7)
    const [host, portText] = dns.address!.split(':') as [string, string]
    const port = Number(portText)
    const valid = query('web.service.grapevine')
    const udp = createSocket('udp4')
    cleanups.push(() => new Promise<void>((resolve) => udp.close(() => resolve())))
    let replies = 0
    udp.on('message', () => replies++)
    const taken = () =>
      dns.counters.queries + dns.counters.dropped.short + dns.counters.dropped.response
    for (let i = 0; i < 10_000; i++) {
      const packet =
        i % 2 === 0
          ? Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => random() * 256))
          : Buffer.from(valid.subarray(0, Math.floor(random() * valid.length)))
      if (i % 3 === 0 && packet.length > 6) packet.writeUInt16BE(0xffff, 4)
      udp.send(packet, port, host)
      // In batches, each taken before the next, so the kernel's socket buffer never overflows.
      if (i % 100 === 99) await waitFor(`packet ${i} taken`, () => taken() >= i + 1)
    }
    // TCP: garbage with a length prefix, a frame cut short, then the socket closed.
    const tcp = connect({ host, port })
    await new Promise((resolve) => tcp.once('connect', resolve))
    tcp.write(Buffer.from([0, 40, ...Array.from({ length: 40 }, () => 0xc0)]))
    tcp.write(Buffer.from([0xff, 0xff, 1, 2, 3]))
    tcp.destroy()
    await waitFor(
      'the interface to have taken every packet',
      () =>
        dns.counters.queries + dns.counters.dropped.short + dns.counters.dropped.response >= 9_000,
    )
    expect(replies).toBeGreaterThan(0)
    expect(await resolver().resolve4('web.service.grapevine')).toEqual(['10.0.0.1'])
    expect(JSON.stringify([...agent.services({ includeCritical: true })])).toBe(before)
  })
})
