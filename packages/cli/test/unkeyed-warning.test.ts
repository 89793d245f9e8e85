import { describe, expect, it } from 'vitest'
import { unkeyedWarning } from '../src/daemon/unkeyed-warning.js'

describe('grapevine agent without a cluster key', () => {
  it('warns when it listens beyond loopback, naming the exposed addresses', () => {
    const warning = unkeyedWarning(['/ip4/0.0.0.0/tcp/7946', '/ip4/127.0.0.1/tcp/7947'], false)
    expect(warning).toMatch(/no cluster key/)
    expect(warning).toContain('/ip4/0.0.0.0/tcp/7946')
    expect(warning).not.toContain('127.0.0.1')
  })

  it('stays quiet with a key, or on loopback only', () => {
    expect(unkeyedWarning(['/ip4/0.0.0.0/tcp/7946'], true)).toBeUndefined()
    expect(unkeyedWarning(['/ip4/127.0.0.1/tcp/0', '/ip6/::1/tcp/0'], false)).toBeUndefined()
  })
})
