/**
 * The dashboard in a real browser: Debian's headless Chromium, driven by playwright-core,
 * against three `grapevine agent` processes on 127.0.0.1. The page is opened on agent 1,
 * which requires a bearer token, so the test first checks that nothing is readable before the
 * token is given. Then it checks what an operator relies on: every member and the instances
 * registered on other agents are shown, a new registration appears within 1 s without a
 * reload, and a SIGKILLed agent turns dead. A screenshot goes to reports/dashboard.png.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Member } from '@grapevine/core'
import { waitFor } from '@grapevine/core/testing'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliAgent, startCliAgent, stopCliAgent } from './support/cli-agents.js'

const CHROMIUM = '/usr/bin/chromium'
const TOKEN = `dashboard-token-${process.pid}`
const REPORTS = new URL('../reports/', import.meta.url)
/** The bound from a registration to its row on the page. */
const APPEAR_BOUND_MS = 1000

let root: string
let userDataDir: string
const agents: CliAgent[] = []
let browser: BrowserContext | undefined
let page: Page

async function api<T>(agent: CliAgent, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${agent.httpUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...init.headers },
  })
  if (!res.ok) throw new Error(`${path} answered ${res.status}`)
  return (await res.json()) as T
}

function register(agent: CliAgent, body: Record<string, unknown>): Promise<{ id: string }> {
  return api(agent, '/v1/register', { method: 'POST', body: JSON.stringify(body) })
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} (Debian's chromium; scripts/test-deps.txt)`).toBe(true)
  root = await mkdtemp(join(tmpdir(), `grapevine-dashboard-${process.pid}-`))
  userDataDir = join(root, 'chromium-profile')
  const cluster = `dashboard-${process.pid}-${Date.now()}`
  // Every agent requires the token, so that the cluster-wide calls below look like a real
  // protected deployment; the page is opened on agent 1.
  const env = { GRAPEVINE_TOKEN: TOKEN }
  const first = await startCliAgent({
    name: 'alpha',
    cluster,
    root,
    env,
    extraArgs: ['--node-name', 'alpha'],
  })
  agents.push(first)
  const seed = first.addresses[0]!
  const others = await Promise.all(
    ['bravo', 'charlie'].map((name) =>
      startCliAgent({
        name,
        cluster,
        root,
        env,
        bootstrap: [seed],
        extraArgs: ['--node-name', name],
      }),
    ),
  )
  agents.push(...others)
  await waitFor(
    'every agent to see 3 alive members',
    async () => {
      for (const agent of agents) {
        const members = await api<Member[]>(agent, '/v1/members')
        if (members.filter((m) => m.state === 'alive').length !== 3) return false
      }
      return true
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  )
  // A fresh profile per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  page = browser.pages()[0] ?? (await browser.newPage())
})

afterAll(async () => {
  await browser?.close()
  await Promise.all(agents.map((agent) => stopCliAgent(agent)))
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

describe('the dashboard in headless Chromium, on a 3-agent cluster', () => {
  it('shows nothing from the registry until the token is given', async () => {
    const [alpha, bravo] = agents as [CliAgent, CliAgent]
    await register(bravo, { name: 'secret-svc', id: 'secret-1' })
    await waitFor('secret-svc on alpha', async () =>
      (await api<unknown[]>(alpha, '/v1/services/secret-svc')).some(Boolean),
    )
    const dataAnswers: Array<{ url: string; status: number }> = []
    page.on('response', (response) => {
      if (new URL(response.url()).pathname.startsWith('/v1/')) {
        dataAnswers.push({ url: response.url(), status: response.status() })
      }
    })
    await page.goto(`${alpha.httpUrl}/`)
    expect(new URL(page.url()).pathname).toBe('/ui/')
    await page.locator('#login').waitFor({ state: 'visible' })
    expect(await page.locator('#main').isHidden()).toBe(true)
    expect(await page.content()).not.toContain('secret-svc')
    expect(dataAnswers.length).toBeGreaterThan(0)
    expect(dataAnswers.every((answer) => answer.status === 401)).toBe(true)

    await page.fill('#token', 'wrong-token')
    await page.click('#login button')
    await page.locator('#login-error').waitFor({ state: 'visible' })
    expect(await page.content()).not.toContain('secret-svc')

    await page.fill('#token', TOKEN)
    await page.click('#login button')
    await page.locator('#main').waitFor({ state: 'visible' })
    await page.locator('tr[data-service="secret-svc"]').waitFor()
    expect(dataAnswers.some((answer) => answer.status === 200)).toBe(true)
  })

  it('shows every member by name and an instance registered on another agent', async () => {
    const [, bravo, charlie] = agents as [CliAgent, CliAgent, CliAgent]
    await register(charlie, {
      name: 'billing',
      id: 'billing-1',
      version: 'v2.1.0',
      endpoints: ['http://127.0.0.1:9101'],
      tags: ['edge'],
      metadata: { zone: 'b' },
      checks: [{ kind: 'ttl', id: 'beat', name: 'heartbeat', ttl: '1h', initialStatus: 'passing' }],
    })
    for (const agent of agents) {
      const row = page.locator(`tr[data-member-id="${agent.peerId}"]`)
      await row.waitFor()
      expect(await row.getAttribute('data-state')).toBe('alive')
    }
    // Each member by its node name; a remote name shows once the membership protocol carries
    // it (until then the page shows the peer id, as the API does).
    const known = await api<Member[]>(agents[0]!, '/v1/members')
    const expected = known.map((m) => m.name ?? `…${m.id.slice(-8)}`)
    expect(expected[0]).toBe('alpha')
    const names = await page.locator('#members .node-name').allTextContents()
    expect(names.map((n) => n.replace('this agent', '')).sort()).toEqual([...expected].sort())

    await page.locator('tr[data-service="billing"]').click()
    const instance = page.locator('#instances tr[data-instance-id="billing-1"]')
    await instance.waitFor()
    const text = await instance.textContent()
    expect(text).toContain('v2.1.0')
    expect(text).toContain('http://127.0.0.1:9101')
    expect(text).toContain('zone=b')
    const owner = known.find((m) => m.id === charlie.peerId)!
    expect(text).toContain(owner.name ?? charlie.peerId.slice(-8))
    expect(bravo.peerId).not.toBe(charlie.peerId)
    // Friction point 6: the remote instance's check, then its change, live on this page.
    const check = instance.locator('[data-check-id="beat"]')
    expect(await check.textContent()).toContain('heartbeat')
    expect(await check.locator('.check-status').textContent()).toBe('passing')
    await api(charlie, '/v1/ttl/billing-1/beat/warn', {
      method: 'POST',
      body: JSON.stringify({ note: 'queue backing up' }),
      headers: { 'content-type': 'application/json' },
    })
    await check.locator('.check-status', { hasText: 'warning' }).waitFor()
    expect(await check.locator('.check-output').textContent()).toBe('queue backing up')
  })

  it('shows a registration on another agent within 1 s, without a reload', async () => {
    const [, bravo] = agents as [CliAgent, CliAgent]
    // The service page stays open from the test before; set it again so this one stands alone.
    await page.evaluate(() => {
      location.hash = '#/service/billing'
    })
    await page.locator('#service-card').waitFor({ state: 'visible' })
    const navigations: string[] = []
    page.on('framenavigated', (frame) => navigations.push(frame.url()))
    const started = performance.now()
    await register(bravo, {
      name: 'billing',
      id: 'billing-live',
      endpoints: ['http://127.0.0.1:9102'],
    })
    await page
      .locator('#instances tr[data-instance-id="billing-live"]')
      .waitFor({ timeout: APPEAR_BOUND_MS })
    const elapsed = performance.now() - started
    console.log(`registration on bravo → row on alpha's page: ${elapsed.toFixed(0)} ms`)
    expect(elapsed).toBeLessThan(APPEAR_BOUND_MS)
    await page.locator('#log li[data-instance-id="billing-live"][data-op="add"]').waitFor()
    expect(navigations.filter((url) => !url.includes('#'))).toEqual([])
  })

  it('turns a SIGKILLed agent dead, with the change on the timeline', async () => {
    const charlie = agents[2]!
    charlie.kill('SIGKILL')
    const row = page.locator(`#members tr[data-member-id="${charlie.peerId}"]`)
    await waitFor(
      'charlie dead on the page',
      async () => (await row.getAttribute('data-state')) === 'dead',
      { timeoutMs: 10_000, intervalMs: 50 },
    )
    await page
      .locator(`#timeline li[data-member-id="${charlie.peerId}"][data-change="dead"]`)
      .waitFor()
    // Its instance is expired everywhere, and the page shows the cause.
    await page
      .locator('#log li[data-instance-id="billing-1"][data-op="delete"] .cause-expired')
      .waitFor()

    await mkdir(REPORTS, { recursive: true })
    await page.screenshot({ path: new URL('dashboard.png', REPORTS).pathname, fullPage: true })
  })
})
