import { type IncomingMessage, request } from 'node:http'
import { Readable } from 'node:stream'

/** The part of a fetch `Response` the agent client reads. */
export interface FetchLikeResponse {
  readonly ok: boolean
  readonly status: number
  readonly statusText: string
  readonly headers: { get(name: string): string | null }
  readonly body: ReadableStream<Uint8Array> | null
  json(): Promise<unknown>
  text(): Promise<string>
}

export interface FetchLikeInit {
  method: string
  headers: Record<string, string>
  body?: string
  signal?: AbortSignal
}

/** What the agent client calls to make a request; `globalThis.fetch` is one. */
export type FetchLike = (url: string, init: FetchLikeInit) => Promise<FetchLikeResponse>

async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of response) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function toResponse(response: IncomingMessage): FetchLikeResponse {
  const status = response.statusCode ?? 0
  let body: ReadableStream<Uint8Array> | undefined
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: response.statusMessage ?? '',
    headers: {
      get(name) {
        const value = response.headers[name.toLowerCase()]
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value
      },
    },
    get body() {
      body ??= Readable.toWeb(response) as ReadableStream<Uint8Array>
      return body
    },
    text: () => readAll(response),
    json: async () => JSON.parse(await readAll(response)),
  }
}

/**
 * `fetch` for the CLI's calls to its local agent, on `node:http`. Why not the global fetch:
 * Node 20 loads undici on the first call to it, which costs about as much CPU as the rest of
 * a client command together; the agent's API is plain HTTP/1.1 on one host. The connection is
 * not kept alive, so the command exits as soon as it is done.
 */
export const nodeHttpFetch: FetchLike = (url, init) =>
  new Promise((resolve, reject) => {
    const req = request(url, {
      method: init.method,
      headers:
        init.body === undefined
          ? init.headers
          : { ...init.headers, 'content-length': Buffer.byteLength(init.body) },
      agent: false,
      ...(init.signal === undefined ? {} : { signal: init.signal }),
    })
    req.once('response', (response) => resolve(toResponse(response)))
    req.once('error', reject)
    req.end(init.body)
  })
