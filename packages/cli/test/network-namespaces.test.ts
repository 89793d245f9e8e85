import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { chooseSubnet, type NetworkLayout, planNetwork } from '../src/demo/network-namespaces.js'
import { removeStaleTempDirs } from '../src/demo/stale-resources.js'

const layout: NetworkLayout = {
  prefix: 'gvdemo',
  owner: 4_194_303, // the largest Linux pid: the longest names
  serial: 35,
  hosts: 5,
  subnet: '10.210.7',
  rootAccess: true,
}

/** `ip` commands that act on the root namespace (no `-n <namespace>`). */
const inRoot = (setup: readonly (readonly string[])[]) => setup.filter((args) => args[0] !== '-n')

describe('planNetwork', () => {
  it('names namespaces after the owner pid and keeps interface names within 15 characters', () => {
    const plan = planNetwork(layout)
    expect(plan.bridge).toBe('gvdemo-4194303-35-br')
    expect(plan.hosts).toEqual([1, 2, 3, 4, 5].map((i) => `gvdemo-4194303-35-n${i}`))
    expect(plan.addresses).toEqual([1, 2, 3, 4, 5].map((i) => `10.210.7.${i}`))
    expect(plan.root).toEqual({ link: 'gvdemo2hwcfz', address: '10.210.7.254' })
    expect(plan.root!.link.length).toBeLessThanOrEqual(15)
    expect(plan.namespaces.at(-1)).toBe(plan.bridge)
  })

  it('gives every host a multicast route and the root namespace none', () => {
    const plan = planNetwork(layout)
    for (const host of plan.hosts) {
      expect(plan.setup).toContainEqual(['-n', host, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0'])
    }
    const root = inRoot(plan.setup)
    expect(root.some((args) => args.includes('route'))).toBe(false)
    // The root namespace makes only its own veth, puts it in the bridge's namespace, and
    // gives it a unicast address.
    expect(root.filter((args) => args[0] === 'link' || args[0] === 'addr')).toEqual([
      [
        'link',
        'add',
        'gvdemo2hwcfz',
        'type',
        'veth',
        'peer',
        'name',
        'uplink',
        'netns',
        plan.bridge,
      ],
      ['link', 'set', 'gvdemo2hwcfz', 'addrgenmode', 'none'],
      ['addr', 'add', '10.210.7.254/24', 'dev', 'gvdemo2hwcfz'],
      ['link', 'set', 'gvdemo2hwcfz', 'up'],
    ])
  })

  it('floods no multicast to the root namespace’s port, before that port comes up', () => {
    const setup = planNetwork(layout).setup.map((args) => args.join(' '))
    const noFlood = setup.indexOf(
      `-n ${layout.prefix}-4194303-35-br link set uplink type bridge_slave mcast_flood off`,
    )
    const up = setup.indexOf(`-n ${layout.prefix}-4194303-35-br link set uplink up`)
    expect(noFlood).toBeGreaterThan(0)
    expect(up).toBeGreaterThan(noFlood)
  })

  it('touches nothing in the root namespace without rootAccess', () => {
    const plan = planNetwork({ ...layout, rootAccess: false })
    expect(plan.root).toBeUndefined()
    expect(inRoot(plan.setup).every((args) => args[0] === 'netns' && args[1] === 'add')).toBe(true)
  })
})

describe('chooseSubnet', () => {
  it('avoids every subnet a route covers, ignoring the default route', () => {
    // Each candidate takes two draws: 0.5, 0.5 → 10.225.126; 0, 0 → 10.200.1.
    const draws =
      (...values: number[]) =>
      () =>
        values.shift() ?? 0
    expect(chooseSubnet(['default', '10.224.0.0/12'], draws(0.5, 0.5))).toBe('10.200.1')
    expect(chooseSubnet(['default', '10.225.126.254'], draws(0.5, 0.5))).toBe('10.200.1')
    expect(chooseSubnet(['default', '10.225.127.0/24'], draws(0.5, 0.5))).toBe('10.225.126')
    expect(chooseSubnet(['default', '192.0.2.0/24', '127.0.0.0/8'], () => 0)).toBe('10.200.1')
  })

  it('gives up when everything is taken', () => {
    expect(() => chooseSubnet(['10.0.0.0/8'])).toThrow('no free 10.x.y.0/24 subnet')
  })
})

describe('removeStaleTempDirs', () => {
  let parent: string | undefined
  afterEach(async () => {
    if (parent !== undefined) await rm(parent, { recursive: true, force: true })
  })

  it('removes the dirs of demos that are gone and keeps those of live ones', async () => {
    parent = await mkdtemp(join(tmpdir(), 'gv-stale-'))
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid
    const dead = join(parent, `grapevine-demo-ns-${deadPid}-AbC123`)
    const live = join(parent, `grapevine-demo-ns-${process.pid}-XyZ789`)
    const other = join(parent, 'grapevine-demo-AbC123')
    for (const dir of [dead, live, other]) await mkdir(join(dir, 'node-1'), { recursive: true })
    expect(await removeStaleTempDirs('grapevine-demo-ns-', parent)).toEqual([dead])
    expect([dead, live, other].map(existsSync)).toEqual([false, true, true])
  })
})
