import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseHostPort, toMultiaddr } from '../src/config/addresses.js'
import { envName, flagName } from '../src/config/config-options.js'
import { renderConfigTable } from '../src/config/config-table.js'
import { resolveClientConfig, resolveConfig } from '../src/config/resolve-config.js'
import { formatDuration, parseDuration } from '../src/duration.js'
import { ConfigError } from '../src/errors.js'

function resolve(
  flags: Record<string, unknown> = {},
  env: Record<string, string> = {},
  files: Record<string, string> = {},
) {
  return resolveConfig({
    flags,
    env,
    readFile: (path) => {
      const text = files[path]
      if (text === undefined) throw new Error('ENOENT')
      return text
    },
  })
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('resolveConfig', () => {
  it('has defaults that make a loopback-API LAN agent', () => {
    const { config, sources } = resolve()
    expect(config).toEqual({
      dev: false,
      cluster: 'default',
      nodeName: undefined,
      listen: ['/ip4/0.0.0.0/tcp/7946'],
      announce: [],
      bootstrap: [],
      mdns: true,
      dataDir: undefined,
      clusterKeyFile: undefined,
      profile: 'lan',
      httpAddr: '127.0.0.1:8510',
      dnsAddr: '127.0.0.1:8600',
      dnsDomain: 'grapevine',
      dnsTtl: 0,
      token: undefined,
      tokenExempt: [],
      configDir: undefined,
      checkUpdateInterval: 300_000,
      logLevel: 'info',
      leaveTimeout: 5000,
      timings: {},
    })
    expect(sources.cluster).toBe('default')
  })

  it('takes flags over environment over config file over defaults', () => {
    const files = {
      'g.json': JSON.stringify({ cluster: 'file', profile: 'wan', logLevel: 'debug', token: 'f' }),
    }
    const env = { GRAPEVINE_CONFIG: 'g.json', GRAPEVINE_CLUSTER: 'env', GRAPEVINE_PROFILE: 'lan' }
    const { config, sources, configFile } = resolve({ cluster: 'flag' }, env, files)
    expect(configFile).toBe('g.json')
    expect(config.cluster).toBe('flag')
    expect(config.profile).toBe('lan')
    expect(config.logLevel).toBe('debug')
    expect(config.token).toBe('f')
    expect(config.httpAddr).toBe('127.0.0.1:8510')
    expect(sources).toMatchObject({
      cluster: 'flag',
      profile: 'env',
      logLevel: 'file',
      httpAddr: 'default',
    })
  })

  it('prefers --config to GRAPEVINE_CONFIG', () => {
    const files = { 'a.json': '{"cluster":"a"}', 'b.json': '{"cluster":"b"}' }
    expect(
      resolve({ config: 'a.json' }, { GRAPEVINE_CONFIG: 'b.json' }, files).config.cluster,
    ).toBe('a')
  })

  it('treats an empty variable as unset', () => {
    expect(resolve({}, { GRAPEVINE_CLUSTER: '' }).config.cluster).toBe('default')
  })

  it('reads lists from repeated flags, comma-separated variables and JSON arrays', () => {
    const files = {
      'g.json': JSON.stringify({ bootstrap: ['10.0.0.5:7946'], listen: '/ip4/127.0.0.1/tcp/1' }),
    }
    const fromFile = resolve({ config: 'g.json' }, {}, files).config
    expect(fromFile.bootstrap).toEqual(['/ip4/10.0.0.5/tcp/7946'])
    expect(fromFile.listen).toEqual(['/ip4/127.0.0.1/tcp/1'])
    const fromEnv = resolve({}, { GRAPEVINE_BOOTSTRAP: '10.0.0.5:7946, [::1]:7946,seed.example:1' })
    expect(fromEnv.config.bootstrap).toEqual([
      '/ip4/10.0.0.5/tcp/7946',
      '/ip6/::1/tcp/7946',
      '/dns/seed.example/tcp/1',
    ])
    const fromFlags = resolve({ bootstrap: ['/ip4/1.2.3.4/tcp/5/p2p/12D3KooWabc', '1.2.3.5:6'] })
    expect(fromFlags.config.bootstrap).toEqual([
      '/ip4/1.2.3.4/tcp/5/p2p/12D3KooWabc',
      '/ip4/1.2.3.5/tcp/6',
    ])
  })

  it('reads booleans from `--mdns`, `--mdns=false`, words and JSON', () => {
    expect(resolve({ mdns: true }).config.mdns).toBe(true)
    expect(resolve({ mdns: 'false' }).config.mdns).toBe(false)
    expect(resolve({}, { GRAPEVINE_MDNS: 'no' }).config.mdns).toBe(false)
    expect(resolve({}, { GRAPEVINE_MDNS: '1' }).config.mdns).toBe(true)
    expect(resolve({ config: 'g' }, {}, { g: '{"mdns":false}' }).config.mdns).toBe(false)
  })

  it('puts durations under timings, in milliseconds', () => {
    const { config } = resolve(
      { probeInterval: '250ms', deadAfter: '3s' },
      { GRAPEVINE_SYNC_INTERVAL: '1m', GRAPEVINE_LEAVE_TIMEOUT: '2000' },
      {},
    )
    expect(config.timings).toEqual({
      probeInterval: 250,
      deadAfter: 3000,
      syncInterval: 60_000,
    })
    expect(config.leaveTimeout).toBe(2000)
    expect(resolve({ config: 'g' }, {}, { g: '{"purgeAfter":1000}' }).config.timings).toEqual({
      purgeAfter: 1000,
    })
  })

  it.each([
    [{ profile: 'moon' }, {}, 'profile', '--profile'],
    [{}, { GRAPEVINE_MDNS: 'perhaps' }, 'mdns', 'GRAPEVINE_MDNS'],
    [{ httpAddr: 'localhost' }, {}, 'httpAddr', '--http-addr'],
    [{}, { GRAPEVINE_DEAD_AFTER: 'soon' }, 'deadAfter', 'GRAPEVINE_DEAD_AFTER'],
    [{ bootstrap: ['nowhere'] }, {}, 'bootstrap', '--bootstrap'],
    [{ logLevel: 'loud' }, {}, 'logLevel', '--log-level'],
    [{ dnsAddr: 'nowhere' }, {}, 'dnsAddr', '--dns-addr'],
    [{}, { GRAPEVINE_DNS_DOMAIN: 'bad_domain' }, 'dnsDomain', 'GRAPEVINE_DNS_DOMAIN'],
  ])('names the setting and its source for bad values: %j %j', (flags, env, key, source) => {
    const err = configError(() => resolve(flags, env))
    expect(err.key).toBe(key)
    expect(err.message).toContain(source)
    expect(err.code).toBe('ERR_CONFIG')
  })

  it('turns DNS off with `off` and takes the domain in any case, without dots at the ends', () => {
    expect(resolve({ dnsAddr: 'off' }).config.dnsAddr).toBeUndefined()
    expect(resolve({}, { GRAPEVINE_DNS_ADDR: '0.0.0.0:53' }).config.dnsAddr).toBe('0.0.0.0:53')
    expect(resolve({ dnsDomain: 'SD.Example.com.' }).config.dnsDomain).toBe('sd.example.com')
    expect(resolve({ dnsTtl: '30s' }).config.dnsTtl).toBe(30_000)
  })

  it('rejects unknown keys, bad JSON and missing config files', () => {
    const files = { 'typo.json': '{"clustr":"x"}', 'bad.json': '{', 'list.json': '[]' }
    expect(configError(() => resolve({ config: 'typo.json' }, {}, files)).key).toBe('clustr')
    expect(configError(() => resolve({ config: 'bad.json' }, {}, files)).message).toContain(
      'not valid JSON',
    )
    expect(configError(() => resolve({ config: 'list.json' }, {}, files)).message).toContain(
      'JSON object',
    )
    expect(configError(() => resolve({ config: 'none.json' }, {}, files)).message).toContain(
      'cannot read',
    )
    expect(
      configError(() => resolve({ config: 'g' }, {}, { g: '{"mdns":"x"}' })).message,
    ).toContain('config file g')
  })
})

describe('resolveClientConfig', () => {
  it('finds the agent by flag, then GRAPEVINE_HTTP_ADDR, then the default the daemon uses', () => {
    expect(resolveClientConfig({}, {})).toEqual({ httpAddr: '127.0.0.1:8510', token: undefined })
    expect(
      resolveClientConfig({}, { GRAPEVINE_HTTP_ADDR: '127.0.0.1:1', GRAPEVINE_TOKEN: 't' }),
    ).toEqual({ httpAddr: '127.0.0.1:1', token: 't' })
    expect(
      resolveClientConfig(
        { httpAddr: '127.0.0.1:2', token: 'f' },
        { GRAPEVINE_HTTP_ADDR: '127.0.0.1:1' },
      ),
    ).toEqual({ httpAddr: '127.0.0.1:2', token: 'f' })
    expect(() => resolveClientConfig({ httpAddr: 'nope' }, {})).toThrow(ConfigError)
  })
})

describe('names, addresses and durations', () => {
  it('derives flags and variables from keys', () => {
    expect(flagName('clusterKeyFile')).toBe('cluster-key-file')
    expect(envName('httpAddr')).toBe('GRAPEVINE_HTTP_ADDR')
  })

  it('parses host:port and multiaddr shorthand', () => {
    expect(parseHostPort('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 })
    expect(parseHostPort('[::1]:8510')).toEqual({ host: '::1', port: 8510 })
    expect(parseHostPort('::1:8510')).toBeUndefined()
    expect(parseHostPort('host:99999')).toBeUndefined()
    expect(toMultiaddr('/ip4/1.2.3.4/tcp/5')).toBe('/ip4/1.2.3.4/tcp/5')
    expect(toMultiaddr('/bad//')).toBeUndefined()
  })

  it('parses and formats durations', () => {
    expect(parseDuration('1m30s', 'x')).toBe(90_000)
    expect(parseDuration('1.5s', 'x')).toBe(1500)
    expect(parseDuration(250, 'x')).toBe(250)
    expect(parseDuration('250', 'x')).toBe(250)
    expect(() => parseDuration('-1s', 'x')).toThrow(/duration/)
    expect(() => parseDuration(-1, 'x')).toThrow(/non-negative/)
    expect(formatDuration(1500)).toBe('1.5s')
    expect(formatDuration(120_000)).toBe('2m')
    expect(formatDuration(42)).toBe('42ms')
  })
})

/** Table rows as trimmed cells, so that a markdown formatter's column padding does not count. */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((cell) => (/^\s*-+\s*$/.test(cell) ? '---' : cell.trim())),
    )
}

describe('the settings this issue added', () => {
  // Issue 12, friction point 9: `--token-exempt ready,metrics`.
  it('reads --token-exempt as a list of known routes, from a flag, a variable or the file', () => {
    expect(resolve({ tokenExempt: ['ready,metrics'] }).config.tokenExempt).toEqual([
      'ready',
      'metrics',
    ])
    expect(resolve({}, { GRAPEVINE_TOKEN_EXEMPT: 'metrics' }).config.tokenExempt).toEqual([
      'metrics',
    ])
    const files = { 'g.json': JSON.stringify({ tokenExempt: ['ready'] }) }
    expect(resolve({ config: 'g.json' }, {}, files).config.tokenExempt).toEqual(['ready'])
    const err = configError(() => resolve({ tokenExempt: ['services'] }))
    expect(err.key).toBe('tokenExempt')
    expect(err.message).toContain('"services" is not one of ready, metrics')
  })

  it('takes --node-name and --config-dir', () => {
    const { config } = resolve({ nodeName: 'edge-7', configDir: '/etc/grapevine.d' })
    expect(config).toMatchObject({ nodeName: 'edge-7', configDir: '/etc/grapevine.d' })
  })

  // Issue 12, friction point 10: `--dev`.
  it('--dev changes the defaults only: settings given still win', () => {
    expect(resolve({ dev: true }).config).toMatchObject({
      dev: true,
      cluster: 'dev',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false,
      logLevel: 'warn',
      dataDir: undefined,
    })
    const { config } = resolve({ dev: true, cluster: 'mine' }, { GRAPEVINE_LOG_LEVEL: 'debug' })
    expect(config).toMatchObject({ cluster: 'mine', logLevel: 'debug', mdns: false })
  })

  // Issue 12, friction point 3: one duration grammar in flags, env and the config file.
  it('reads a bare number as milliseconds in flags, variables and the file alike', () => {
    const files = { 'g.json': JSON.stringify({ deadAfter: 2500, probeTimeout: '100' }) }
    const { config } = resolve(
      { config: 'g.json', leaveTimeout: '750' },
      {
        GRAPEVINE_PURGE_AFTER: '60000',
      },
      files,
    )
    expect(config.leaveTimeout).toBe(750)
    expect(config.timings).toMatchObject({
      deadAfter: 2500,
      probeTimeout: 100,
      purgeAfter: 60_000,
    })
  })
})

describe('CONFIG.md', () => {
  it('holds the current settings table', () => {
    const doc = readFileSync(new URL('../CONFIG.md', import.meta.url), 'utf8')
    expect(tableRows(doc)).toEqual(tableRows(renderConfigTable()))
  })
})
