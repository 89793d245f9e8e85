import { createAgent } from '@grapevine/agent'
import pino from 'pino'
import { resolveConfig } from '../../src/config/resolve-config.js'
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js'
import type { ApiAgent } from '../../src/http/agent-extensions.js'

/**
 * One real daemon for route tests: a libp2p agent on 127.0.0.1 with no peers and no mDNS, its
 * HTTP API on an ephemeral port, no DNS front end, and no config files.
 */
export async function startLoopbackDaemon(cluster: string): Promise<Daemon> {
  const { config } = resolveConfig({
    flags: {
      cluster,
      listen: '/ip4/127.0.0.1/tcp/0',
      mdns: 'false',
      httpAddr: '127.0.0.1:0',
      dnsAddr: 'off',
    },
    env: {},
    readFile: () => '',
  })
  return startDaemon(config, {
    createAgent: (options) => createAgent(options) as Promise<ApiAgent>,
    logger: pino({ level: 'silent' }),
    readFile: () => '',
  })
}
