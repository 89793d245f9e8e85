import { ValidationError } from '@grapevine/core'
import type { Command } from 'commander'
import type { CliIo } from '../io.js'
import { formatJson } from '../output/json.js'
import {
  addClientOptions,
  type ClientFlags,
  clientFor,
  collect,
  parsePairs,
  println,
} from './client-options.js'

export interface RegisterFlags extends ClientFlags {
  file?: string
  name?: string
  id?: string
  version?: string
  endpoint?: string[]
  tag?: string[]
  meta?: string[]
  httpCheck?: string
  tcpCheck?: string
  ttlCheck?: string
  checkInterval?: string
  checkTimeout?: string
  check?: string[]
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The registration that `register` sends: the JSON file if given, with flags on top (scalar
 * flags replace, lists replace, metadata pairs merge, checks append). Left unvalidated: the
 * agent validates and names the bad field, whichever way the value came in.
 */
export function buildRegistration(
  flags: RegisterFlags,
  readFile: (path: string) => string,
): Record<string, unknown> {
  let registration: Record<string, unknown> = {}
  if (flags.file !== undefined) {
    const parsed: unknown = JSON.parse(readFile(flags.file))
    if (!isRecord(parsed)) throw new ValidationError('file', 'must hold a JSON object')
    registration = parsed
  }
  if (flags.name !== undefined) registration.name = flags.name
  if (flags.id !== undefined) registration.id = flags.id
  if (flags.version !== undefined) registration.version = flags.version
  if (flags.endpoint !== undefined) registration.endpoints = flags.endpoint
  if (flags.tag !== undefined) registration.tags = flags.tag
  if (flags.meta !== undefined) {
    const base = isRecord(registration.metadata) ? registration.metadata : {}
    registration.metadata = { ...base, ...parsePairs(flags.meta, 'meta') }
  }
  const checks = checksFromFlags(flags)
  if (checks.length > 0) {
    const base = Array.isArray(registration.checks) ? registration.checks : []
    registration.checks = [...base, ...checks]
  }
  return registration
}

function checksFromFlags(flags: RegisterFlags): unknown[] {
  const timing = {
    interval: flags.checkInterval ?? '10s',
    ...(flags.checkTimeout === undefined ? {} : { timeout: flags.checkTimeout }),
  }
  const checks: unknown[] = []
  if (flags.httpCheck !== undefined) checks.push({ kind: 'http', url: flags.httpCheck, ...timing })
  if (flags.tcpCheck !== undefined) checks.push({ kind: 'tcp', address: flags.tcpCheck, ...timing })
  if (flags.ttlCheck !== undefined) checks.push({ kind: 'ttl', ttl: flags.ttlCheck })
  for (const text of flags.check ?? []) {
    try {
      checks.push(JSON.parse(text))
    } catch {
      throw new ValidationError('check', `must be a JSON object, got ${text}`)
    }
  }
  return checks
}

export function registerCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('register')
      .summary('register a service instance on the local agent')
      .description(
        'Register a service instance on the local agent, which owns it and gossips it to the cluster. Give the fields as flags, as a JSON file (-f), or both (flags win). Prints the instance id and the id of each health check it created (what `grapevine ttl` takes).',
      )
      .option(
        '-f, --file <path>',
        'JSON registration: {name, id?, version?, endpoints?, tags?, metadata?, checks?}',
      )
      .option('--name <name>', 'service name')
      .option('--id <id>', 'instance id (generated when absent; reuse it to update in place)')
      .option('--version <version>', 'version of the service')
      .option('--endpoint <url>', 'endpoint URL such as grpc://10.0.0.5:9000 (repeatable)', collect)
      .option('--tag <tag>', 'tag (repeatable)', collect)
      .option('--meta <key=value>', 'metadata pair (repeatable)', collect)
      .option('--http-check <url>', 'health check: GET this URL, 2xx is passing')
      .option('--tcp-check <host:port>', 'health check: connect to this address')
      .option(
        '--ttl-check <duration>',
        'health check: critical unless `grapevine ttl` reports within this TTL',
      )
      .option('--check-interval <duration>', 'interval of --http-check and --tcp-check', '10s')
      .option('--check-timeout <duration>', 'timeout of --http-check and --tcp-check')
      .option('--check <json>', 'a check definition as JSON (repeatable)', collect),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ grapevine register --name user-service --version v1.0.0 \\
      --endpoint grpc://10.0.0.5:9000 --tag edge --meta zone=a --http-check http://10.0.0.5:8080/health
  $ grapevine register -f user-service.json
  $ grapevine register -f user-service.json --id user-2 --meta zone=b`,
    )
    .action(async (flags: RegisterFlags) => {
      const registration = buildRegistration(flags, io.readFile)
      const { id, checks } = await clientFor(io, flags).registerWithChecks(registration)
      const name = typeof registration.name === 'string' ? ` (${registration.name})` : ''
      const lines = [`Registered ${id}${name}`]
      for (const check of checks) {
        const kind = check.kind === undefined ? '' : ` ${check.kind}`
        lines.push(`  check ${check.id}:${kind} ${check.name ?? ''} (${check.status})`.trimEnd())
      }
      if (checks.some((check) => check.kind === 'ttl')) {
        const ttl = checks.find((check) => check.kind === 'ttl')!
        lines.push(`Report TTL checks with: grapevine ttl ${id} ${ttl.id} pass`)
      }
      println(io, flags.json ? formatJson({ id, checks }) : lines.join('\n'))
    })
}
