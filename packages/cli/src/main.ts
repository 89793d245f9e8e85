import { createNodeIo } from './node-io.js'
import { runCli } from './program.js'

// A reader that goes away (`grapevine --help | head`) closes the pipe: the next write fails with
// EPIPE, which Node throws from the stream's 'error' event and so crashes with a stack trace.
// Output nobody reads is not an error; the command carries on and exits as it would (the
// daemon and the demo also treat EPIPE as a stop request, see node-io.ts).
const ignoreClosedPipe = (err: NodeJS.ErrnoException): void => {
  if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err
}
process.stdout.on('error', ignoreClosedPipe)
process.stderr.on('error', ignoreClosedPipe)

// No exit timer: the process ends when the command has let go of everything it opened, so a
// handle left open is a bug that shows (the footprint benchmark times the daemon's exit).
process.exitCode = await runCli(process.argv.slice(2), createNodeIo())
