/**
 * A minimal Server-Sent Events reader for tests that time each event off a raw `fetch` body.
 * The CLI itself uses the `eventsource` library (friction point 7 of issue 12: a kept client,
 * not a hand-written parser), so this lives with the tests.
 */
/** One Server-Sent Event. */
export interface StreamEvent {
  event: string
  data: string
  id: string | undefined
}

/**
 * Parses a `text/event-stream` body (WHATWG rules: fields until a blank line, `:` comments,
 * multi-line `data` joined by newlines, CRLF or LF line ends).
 */
export async function* parseEventStream(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<StreamEvent> {
  const decoder = new TextDecoder()
  let buffer = ''
  let event = ''
  let data: string[] = []
  let id: string | undefined
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      for (;;) {
        const end = buffer.search(/\r?\n|\r/)
        if (end < 0) break
        const line = buffer.slice(0, end)
        const sep = buffer[end] === '\r' && buffer[end + 1] === '\n' ? 2 : 1
        // A lone CR at the end of a chunk may be the first half of a CRLF: wait for more.
        if (buffer[end] === '\r' && end + 1 === buffer.length) break
        buffer = buffer.slice(end + sep)
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), id }
          event = ''
          data = []
          continue
        }
        if (line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon < 0 ? line : line.slice(0, colon)
        let text = colon < 0 ? '' : line.slice(colon + 1)
        if (text.startsWith(' ')) text = text.slice(1)
        if (field === 'event') event = text
        else if (field === 'data') data.push(text)
        else if (field === 'id') id = text
      }
    }
  } finally {
    // Cancelling releases the connection when the consumer stops early (break or abort).
    await reader.cancel().catch(() => {})
  }
}
