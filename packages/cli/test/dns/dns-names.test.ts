import { describe, expect, it } from 'vitest'
import { addressLabel, parseAddressLabel } from '../../src/dns/dns-addresses.js'
import { createZone, parseQueryName } from '../../src/dns/dns-names.js'

const zone = createZone('grapevine', 'prod')

describe('parseQueryName', () => {
  it.each([
    ['web.service.grapevine.', { kind: 'service', service: 'web', tag: undefined }],
    ['web.service.grapevine', { kind: 'service', service: 'web', tag: undefined }],
    ['WeB.SeRvIcE.GrApEvInE.', { kind: 'service', service: 'WeB', tag: undefined }],
    ['edge.web.service.grapevine.', { kind: 'service', service: 'web', tag: 'edge' }],
    ['_web._tcp.service.grapevine.', { kind: 'service', service: 'web', tag: undefined }],
    ['_web._udp.service.grapevine.', { kind: 'service', service: 'web', tag: undefined }],
    ['_web._edge.service.grapevine.', { kind: 'service', service: 'web', tag: 'edge' }],
    ['web.service.prod.grapevine.', { kind: 'service', service: 'web', tag: undefined }],
    ['node-1.node.grapevine.', { kind: 'node', node: 'node-1' }],
    ['7f000001.addr.grapevine.', { kind: 'addr', address: '7f000001' }],
    ['grapevine.', { kind: 'apex' }],
    ['ns.grapevine.', { kind: 'nameserver' }],
    ['web.service.other-dc.grapevine.', { kind: 'none' }],
    ['a.b.web.service.grapevine.', { kind: 'none' }],
    ['_web.service.grapevine.', { kind: 'none' }],
    ['_web.edge.service.grapevine.', { kind: 'none' }],
    ['service.grapevine.', { kind: 'none' }],
    ['anything.grapevine.', { kind: 'none' }],
  ])('%s', (name, expected) => {
    expect(parseQueryName(name, zone)).toEqual(expected)
  })

  it('leaves names outside the zone alone (undefined: REFUSED)', () => {
    expect(parseQueryName('example.com.', zone)).toBeUndefined()
    expect(parseQueryName('web.service.consul.', zone)).toBeUndefined()
    expect(parseQueryName('.', zone)).toBeUndefined()
  })

  it('works for a zone of several labels', () => {
    const deep = createZone('SD.Example.com', 'prod')
    expect(parseQueryName('web.service.sd.example.com.', deep)).toEqual({
      kind: 'service',
      service: 'web',
      tag: undefined,
    })
    expect(parseQueryName('web.service.example.com.', deep)).toBeUndefined()
  })
})

describe('address labels', () => {
  it.each([
    ['10.0.0.5', '0a000005'],
    ['127.0.0.1', '7f000001'],
    ['::1', '00000000000000000000000000000001'],
    ['fe80::1:2', 'fe800000000000000000000000010002'],
    ['2001:db8::', '20010db8000000000000000000000000'],
    ['::ffff:10.0.0.5', '00000000000000000000ffff0a000005'],
  ])('%s ↔ %s', (ip, label) => {
    expect(addressLabel(ip)).toBe(label)
    const back = parseAddressLabel(label)!
    expect(addressLabel(back)).toBe(label)
  })

  it('refuses labels that spell no address', () => {
    expect(parseAddressLabel('xyz')).toBeUndefined()
    expect(parseAddressLabel('0a00000')).toBeUndefined()
  })
})
