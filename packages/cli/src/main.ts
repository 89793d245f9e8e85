import { createNodeIo } from './node-io.js'
import { runCli } from './program.js'

const code = await runCli(process.argv.slice(2), createNodeIo())
process.exitCode = code
// Exit even if a library left a handle open (libp2p sockets after a timed-out leave); unref'd
// so that a clean exit is not delayed and piped output is flushed first.
setTimeout(() => process.exit(code), 2000).unref()
