import type { Command } from 'commander'
import type { CliIo } from '../io.js'

export function keygenCommand(program: Command, io: CliIo): void {
  program
    .command('keygen')
    .summary('print a new cluster key (swarm.key format)')
    .description(
      'Print a new random cluster key: 32 bytes in the libp2p private-network swarm.key format that `grapevine agent --cluster-key-file` and createAgent({ clusterKey }) accept. Only agents holding the same key can connect to each other. Keep the file private (mode 0600) and give every node of the cluster a copy.',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ (umask 077 && grapevine keygen > /etc/grapevine/cluster.key)
  $ grapevine agent --cluster prod --cluster-key-file /etc/grapevine/cluster.key`,
    )
    .action(async () => {
      // The key format belongs to the gossip layer; loaded on demand like the daemon's code.
      const { generateClusterKey } = await import('@grapevine/agent')
      io.stdout.write(generateClusterKey())
    })
}
