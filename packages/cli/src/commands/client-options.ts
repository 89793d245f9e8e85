import { ValidationError } from '@grapevine/core'
import type { Command } from 'commander'
import { type AgentClient, createAgentClient } from '../client/agent-client.js'
import { nodeHttpFetch } from '../client/node-http-fetch.js'
import { formatHostPort, parseHostPort } from '../config/addresses.js'
import { DEFAULT_HTTP_ADDR } from '../config/agent-config.js'
import { resolveClientConfig } from '../config/resolve-config.js'
import type { CliIo } from '../io.js'

/** Options every client command takes. */
export interface ClientFlags {
  httpAddr?: string
  token?: string
  json?: boolean
}

export function addClientOptions(command: Command): Command {
  return command
    .option(
      '--http-addr <host:port>',
      `address of the local agent's HTTP API (env GRAPEVINE_HTTP_ADDR, default ${DEFAULT_HTTP_ADDR})`,
    )
    .option('--token <token>', "the agent's bearer token (env GRAPEVINE_TOKEN)")
    .option('--json', 'print JSON instead of a table')
}

/** A client for the agent the flags and environment point at. */
export function clientFor(io: CliIo, flags: ClientFlags): AgentClient {
  const { httpAddr, token } = resolveClientConfig({ ...flags }, io.env)
  return createAgentClient({
    baseUrl: `http://${formatHostPort(parseHostPort(httpAddr)!)}`,
    ...(token === undefined ? {} : { token }),
    fetch: nodeHttpFetch,
  })
}

/** Commander collector for repeatable options: `--tag a --tag b` → `['a', 'b']`. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

/** `['zone=a', 'tier=web']` → `{zone: 'a', tier: 'web'}`; `field` names the flag in errors. */
export function parsePairs(
  items: readonly string[] | undefined,
  field: string,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of items ?? []) {
    const eq = item.indexOf('=')
    if (eq <= 0) throw new ValidationError(field, `expected key=value, got "${item}"`)
    out[item.slice(0, eq)] = item.slice(eq + 1)
  }
  return out
}

/** Writes `text` and a newline to stdout. */
export function println(io: CliIo, text: string): void {
  io.stdout.write(`${text}\n`)
}
