import { type Command, Option } from 'commander'
import { CONFIG_OPTIONS, type ConfigOption, envName, flagName } from '../config/config-options.js'
import { resolveConfig } from '../config/resolve-config.js'
import type { CliIo } from '../io.js'
import { collect } from './client-options.js'

function toCommanderOption(option: ConfigOption): Option {
  const flag = `--${flagName(option.key)} ${option.placeholder}`
  const help = `${option.description} (env ${envName(option.key)}, default ${option.defaultText})`
  const commanderOption = new Option(flag, help)
  const list = typeof option.type === 'object' && 'someOf' in option.type
  if (option.type === 'multiaddrs' || list) commanderOption.argParser(collect)
  return commanderOption
}

export function agentCommand(program: Command, io: CliIo): void {
  const command = program
    .command('agent')
    .summary('run an agent: join the cluster, serve the HTTP API (native and Consul) and DNS')
    .description(
      "Run a Grapevine agent: join the cluster (mDNS and/or --bootstrap), replicate the registry, and serve the HTTP API (the native /v1 routes, Consul-compatible routes and Prometheus http_sd) and DNS (NAME.service.grapevine on 127.0.0.1:8600). Both ports are bound before the node joins; a port in use fails at once. Settings come from flags, then GRAPEVINE_* variables, then the --config JSON file, then defaults. SIGINT/SIGTERM leave the cluster gracefully (this node's instances are deregistered).",
    )
    .option(
      '--config <file>',
      'JSON file of settings, keyed as in the table below (env GRAPEVINE_CONFIG)',
    )
  for (const option of CONFIG_OPTIONS) command.addOption(toCommanderOption(option))
  // For `grapevine demo`: its nodes stop when the demo dies, even by SIGKILL.
  command.addOption(
    new Option(
      '--exit-on-stdin-close',
      'leave the cluster and exit when stdin closes, as on SIGTERM (for a supervising process: the demo, tests)',
    ),
  )
  command
    .addHelpText(
      'after',
      `
Every setting can also be given as the GRAPEVINE_* variable shown, or in the --config JSON file
under its camelCase name (httpAddr, logLevel, …); flags win over variables, variables over the
file. Durations take milliseconds or '500ms', '10s', '1m'. See packages/cli/CONFIG.md.

Examples:
  $ grapevine agent                                   # LAN: peers found by mDNS
  $ grapevine agent --cluster prod --bootstrap 10.0.0.5:7946 --data-dir /var/lib/grapevine
  $ GRAPEVINE_TOKEN=s3cret grapevine agent --http-addr 127.0.0.1:8510 --log-level debug
  $ grapevine agent --dns-addr 0.0.0.0:8600 --dns-ttl 5s       # DNS for other hosts too
  $ grapevine agent --dns-addr off                             # no DNS interface
  $ dig @127.0.0.1 -p 8600 web.service.grapevine SRV           # then ask it`,
    )
    .action(async (flags: Record<string, unknown>) => {
      const { config, sources, configFile } = resolveConfig({
        flags,
        env: io.env,
        readFile: io.readFile,
      })
      // Loaded here, not at the top: client commands then never load fastify, pino or libp2p.
      const [{ createLogger }, { loadCreateAgent }, { startDaemon }] = await Promise.all([
        import('../daemon/logger.js'),
        import('../daemon/load-create-agent.js'),
        import('../daemon/daemon.js'),
      ])
      const logger = createLogger(config.logLevel, io.logStream)
      logger.debug({ sources, configFile }, 'configuration resolved')
      const createAgent = await loadCreateAgent()
      const daemon = await startDaemon(config, {
        createAgent,
        logger,
        readFile: io.readFile,
        listDir: io.listDir,
      })
      // --dev logs warnings only (the JSON lines would bury the point); say where things are.
      if (config.dev) {
        const dns = daemon.listening.dns
        io.stderr.write(
          [
            `Grapevine dev agent "${daemon.agent.nodeName ?? daemon.agent.peerId}": cluster ${config.cluster}, memory only, no mDNS`,
            `  dashboard  ${daemon.url}/ui/`,
            `  HTTP API   ${daemon.url}  (try: grapevine register --name web --endpoint http://127.0.0.1:8080)`,
            ...(dns === undefined
              ? []
              : [
                  `  DNS        ${dns}  (dig @${dns.replace(/:(\d+)$/, ' -p $1')} web.service.${config.dnsDomain})`,
                ]),
            'Stop with Ctrl-C.',
            '',
          ].join('\n'),
        )
      }
      const unsubscribers: Array<() => void> = []
      await new Promise<void>((resolve) => {
        // `grapevine leave` shuts the daemon down from inside; signals below do it from outside.
        void daemon.done.then(resolve)
        const stop = (reason: string) => {
          if (daemon.shuttingDown) {
            logger.warn({ reason }, 'second stop request: exiting without finishing the leave')
            io.exit(1)
            return
          }
          void daemon.shutdown(reason).then(resolve)
        }
        unsubscribers.push(io.onSignal((signal) => stop(signal)))
        unsubscribers.push(
          io.onReload(() => {
            logger.info('SIGHUP: reloading the config dir')
            daemon.reload().catch((err: unknown) => logger.error({ err }, 'reload failed'))
          }),
        )
        if (flags.exitOnStdinClose === true) {
          // stdin reports both `end` and `close`; one stop request, not two.
          let seen = false
          unsubscribers.push(
            io.onStdinClose(() => {
              if (!seen) stop('stdin closed')
              seen = true
            }),
          )
        }
      })
      // Let go of stdin and the signal handlers, so the process can exit on its own.
      for (const unsubscribe of unsubscribers) unsubscribe()
    })
}
