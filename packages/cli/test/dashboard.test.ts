import { waitFor } from '@grapevine/core/testing'
import { EventSource } from 'eventsource'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from './support/api-server.js'

const servers: TestServer[] = []
const sources: EventSource[] = []

async function server(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const started = await startTestServer(options)
  servers.push(started)
  return started
}

afterEach(async () => {
  for (const source of sources.splice(0)) source.close()
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

/** Opens /v1/activity with the library the page uses, collecting every message by type. */
function openActivity(url: string, token?: string) {
  const messages: Array<{ type: string; data: unknown }> = []
  const source = new EventSource(`${url}/v1/activity`, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: { ...init.headers, ...(token && { authorization: `Bearer ${token}` }) },
      }),
  })
  sources.push(source)
  for (const type of ['snapshot', 'event', 'members', 'conflicts']) {
    source.addEventListener(type, (message) =>
      messages.push({ type, data: JSON.parse(message.data) }),
    )
  }
  return { source, messages }
}

describe('the dashboard page', () => {
  it('redirects / to /ui/ and serves the page and its files from the package', async () => {
    const { url } = await server()
    const root = await fetch(`${url}/`, { redirect: 'manual' })
    expect(root.status).toBe(302)
    expect(root.headers.get('location')).toBe('/ui/')
    const page = await fetch(`${url}/ui/`)
    expect(page.headers.get('content-type')).toContain('text/html')
    const html = await page.text()
    // Every file the page names is served, and nothing comes from another host (offline).
    const referenced = [...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]!)
    expect(referenced).toEqual(expect.arrayContaining(['style.css', 'app.js', 'favicon.svg']))
    let total = Buffer.byteLength(html)
    const own = ['style.css', 'app.js', 'render.js', 'favicon.svg']
    const vendor = ['vendor/eventsource.js', 'vendor/eventsource-parser.js']
    for (const file of new Set([...referenced, ...own, ...vendor])) {
      const res = await fetch(`${url}/ui/${file}`)
      expect(res.status, file).toBe(200)
      const text = await res.text()
      total += Buffer.byteLength(text)
      // Our files name no other host; the libraries import only each other (the import map).
      if (own.includes(file)) expect(text, file).not.toMatch(/https?:\/\/(?!www\.w3\.org)/)
      for (const [, specifier] of text.matchAll(/^import\s[^'"]*from\s*["']([^"']+)["']/gm)) {
        expect(['eventsource-parser', './render.js', './vendor/eventsource.js'], file).toContain(
          specifier,
        )
      }
    }
    expect(html).toContain('"eventsource-parser": "./vendor/eventsource-parser.js"')
    expect(total).toBeLessThanOrEqual(150 * 1024)
    expect((await fetch(`${url}/ui/nope.js`)).status).toBe(404)
  })

  it('leaves the page open with a token, but not its data', async () => {
    const { url } = await server({ token: 's3cret' })
    expect((await fetch(`${url}/ui/`)).status).toBe(200)
    expect((await fetch(`${url}/ui/app.js`)).status).toBe(200)
    expect((await fetch(`${url}/v1/activity`)).status).toBe(401)
    expect((await fetch(`${url}/v1/self`)).status).toBe(401)
    const { messages } = openActivity(url, 's3cret')
    await waitFor('the snapshot', () => messages.find((m) => m.type === 'snapshot'))
  })
})

describe('GET /v1/activity', () => {
  it('opens with a snapshot of members, every service (critical ones too) and recent changes', async () => {
    const s = await server()
    await s.agent.register({ id: 'web-1', name: 'web' })
    await s.agent.register({ id: 'down-1', name: 'down', status: 'critical' })
    const { messages } = openActivity(s.url)
    const snapshot = (
      await waitFor('the snapshot', () => messages.find((m) => m.type === 'snapshot'))
    ).data as {
      self: { peerId: string }
      services: Record<string, Array<{ id: string }>>
      members: Array<{ id: string }>
      log: Array<{ op: string; cause: string; instance: { id: string } }>
      rate: Array<{ count: number }>
    }
    expect(snapshot.self.peerId).toBe('node-a')
    expect(Object.keys(snapshot.services)).toEqual(['down', 'web'])
    expect(snapshot.members.map((m) => m.id)).toEqual(['node-a'])
    expect(snapshot.log.map((e) => [e.op, e.cause, e.instance.id])).toEqual([
      ['add', 'registered', 'web-1'],
      ['add', 'registered', 'down-1'],
    ])
    expect(snapshot.rate).toHaveLength(60)
    expect(snapshot.rate.reduce((sum, r) => sum + r.count, 0)).toBe(2)
  })

  it('sends each change with its cause as it happens', async () => {
    const s = await server()
    const { messages } = openActivity(s.url)
    await waitFor('the snapshot', () => messages.find((m) => m.type === 'snapshot'))
    await s.agent.register({ id: 'web-1', name: 'web' })
    await s.agent.deregister('web-1')
    const events = await waitFor('two events', () => {
      const found = messages.filter((m) => m.type === 'event')
      return found.length === 2 && found
    })
    expect(events.map((m) => m.data)).toMatchObject([
      { op: 'add', cause: 'registered', instance: { id: 'web-1' }, seq: 1 },
      { op: 'delete', cause: 'deregistered', instance: { id: 'web-1' }, seq: 2 },
    ])
    // The member list goes out at least once a second, so "last heard" stays true.
    await waitFor('a members message', () => messages.find((m) => m.type === 'members'), {
      timeoutMs: 3000,
    })
  })
})
