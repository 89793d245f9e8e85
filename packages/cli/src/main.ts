import { createNodeIo } from './node-io.js'
import { runCli } from './program.js'

// No exit timer: the process ends when the command has let go of everything it opened, so a
// handle left open is a bug that shows (the footprint benchmark times the daemon's exit).
process.exitCode = await runCli(process.argv.slice(2), createNodeIo())
