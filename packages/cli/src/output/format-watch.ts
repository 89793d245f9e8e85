import type { WatchMessage } from '../api-types.js'
import { formatInstances } from './format-instances.js'
import { formatJson } from './json.js'

/** ANSI: cursor home, clear screen — redraws the view in place without scrolling. */
export const CLEAR_SCREEN = '\x1b[H\x1b[2J'

export interface WatchFrameOptions {
  name: string
  /** Redraw in place (a TTY) or append one block per update (a pipe or log). */
  redraw: boolean
  json: boolean
  /** Wall-clock time of the update, shown in the header. */
  at: Date
}

function clock(at: Date): string {
  return at.toTimeString().slice(0, 8)
}

/** What `grapevine watch NAME` prints for one message of the stream. */
export function formatWatchFrame(message: WatchMessage, options: WatchFrameOptions): string {
  if (options.json) return `${formatJson(message, { lines: true })}\n`
  const count = message.instances.length
  const header = `${options.name}: ${count} instance${count === 1 ? '' : 's'} at ${clock(options.at)} (index ${message.index})`
  const cause =
    message.type === 'change'
      ? `last change: ${message.event.op} ${message.event.instance.id} (${message.event.cause})`
      : 'initial snapshot'
  const body = `${header}\n${cause}\n\n${formatInstances(options.name, message.instances)}\n`
  return options.redraw ? `${CLEAR_SCREEN}${body}\nCtrl-C to stop.\n` : `${body}\n`
}
