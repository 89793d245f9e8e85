// The Grapevine dashboard: one agent's view of the cluster, live over its /v1/activity
// Server-Sent Events stream. No framework: the state below is rebuilt from each snapshot,
// changed by each event, and the page is redrawn from it (tens of rows, well under a ms).

import {
  countByHealth,
  renderConflicts,
  renderLog,
  renderMembers,
  renderRate,
  renderService,
  renderServices,
  renderTimeline,
  shortId,
} from './render.js'
import { EventSource } from './vendor/eventsource.js'

const TOKEN_KEY = 'grapevine.token'
const RATE_SECONDS = 60
const $ = (id) => document.getElementById(id)

const state = {
  self: undefined,
  members: [],
  /** performance.now() when `members` arrived; "last heard" ages from there. */
  membersAt: 0,
  timeline: [],
  /** name → Map(id → instance), critical instances included. */
  services: new Map(),
  conflicts: [],
  log: [],
  /** Wall-clock second → change events in it. */
  perSecond: new Map(),
  /** This agent's own instances' checks, with their output (checks run on the owner). */
  localChecks: new Map(),
  selected: undefined,
}

let token = sessionStorage.getItem(TOKEN_KEY) ?? undefined
let source

function authorized(init = {}) {
  if (token === undefined) return init
  return { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } }
}

async function api(path) {
  const response = await fetch(path, authorized({ headers: { accept: 'application/json' } }))
  if (response.status === 401) throw Object.assign(new Error('unauthorized'), { status: 401 })
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`)
  return response.json()
}

// ---- the token gate: nothing is fetched or shown until the agent accepts the request ----

function showLogin(message) {
  source?.close()
  source = undefined
  $('main').hidden = true
  $('login').hidden = false
  setConnection('locked', 'token needed')
  const error = $('login-error')
  error.hidden = message === undefined
  error.textContent = message ?? ''
  $('token').focus()
}

$('login').addEventListener('submit', (event) => {
  event.preventDefault()
  token = $('token').value.trim()
  sessionStorage.setItem(TOKEN_KEY, token)
  void start()
})

async function start() {
  try {
    state.self = await api('/v1/self')
  } catch (err) {
    if (err.status === 401) {
      showLogin(token === undefined ? undefined : 'That token was refused.')
      return
    }
    setConnection('down', 'agent unreachable')
    setTimeout(start, 2000)
    return
  }
  $('login').hidden = true
  $('main').hidden = false
  connect()
}

// ---- the live stream ----

function setConnection(kind, text) {
  const badge = $('connection')
  badge.dataset.state = kind
  badge.textContent = text
}

function connect() {
  source?.close()
  source = new EventSource('/v1/activity', {
    fetch: (input, init) => fetch(input, authorized(init)),
  })
  setConnection('connecting', 'connecting…')
  source.addEventListener('open', () => setConnection('live', 'live'))
  source.addEventListener('error', (event) => {
    if (event.code === 401) return showLogin('The agent no longer accepts this token.')
    // The library reconnects by itself (with Last-Event-ID) after a dropped stream; it gives
    // up on an HTTP error answer, so start over then.
    if (source.readyState === EventSource.CLOSED) {
      setConnection('down', 'disconnected')
      setTimeout(start, 2000)
    } else {
      setConnection('connecting', 'reconnecting…')
    }
  })
  source.addEventListener('snapshot', (message) => onSnapshot(JSON.parse(message.data)))
  source.addEventListener('event', (message) => onEvent(JSON.parse(message.data)))
  source.addEventListener('members', (message) => onMembers(JSON.parse(message.data)))
  source.addEventListener('conflicts', (message) => {
    state.conflicts = JSON.parse(message.data)
    schedule()
  })
}

function onSnapshot(snapshot) {
  state.self = { ...state.self, ...snapshot.self }
  state.members = snapshot.members
  state.membersAt = performance.now()
  state.timeline = snapshot.timeline
  state.conflicts = snapshot.conflicts
  state.log = snapshot.log
  state.services = new Map(
    Object.entries(snapshot.services).map(([name, list]) => [
      name,
      new Map(list.map((i) => [i.id, i])),
    ]),
  )
  state.perSecond = new Map(snapshot.rate.map((r) => [r.second, r.count]))
  void refreshLocalChecks()
  schedule()
}

function onEvent(event) {
  const { instance } = event
  let instances = state.services.get(instance.name)
  if (event.op === 'delete') {
    instances?.delete(instance.id)
    if (instances?.size === 0) state.services.delete(instance.name)
  } else {
    if (instances === undefined) {
      instances = new Map()
      state.services.set(instance.name, instances)
    }
    instances.set(instance.id, instance)
  }
  state.log.push(event)
  if (state.log.length > 500) state.log.splice(0, state.log.length - 500)
  const second = Math.floor(event.at / 1000)
  state.perSecond.set(second, (state.perSecond.get(second) ?? 0) + 1)
  if (instance.node === state.self?.peerId) void refreshLocalChecks()
  schedule()
}

function onMembers({ members, changes }) {
  state.members = members
  state.membersAt = performance.now()
  state.timeline.push(...changes)
  if (state.timeline.length > 500) state.timeline.splice(0, state.timeline.length - 500)
  schedule()
}

let checksPending = false
async function refreshLocalChecks() {
  if (checksPending) return
  checksPending = true
  try {
    const own = await api('/v1/instances')
    state.localChecks = new Map(own.map((i) => [i.id, i.checks]))
    schedule()
  } catch {
    // The next event or snapshot tries again.
  } finally {
    checksPending = false
  }
}

// ---- drawing ----

function nodeName(id) {
  const member = state.members.find((m) => m.id === id)
  return member?.name ?? shortId(id)
}

function checksOf(instance) {
  const own = instance.node === state.self?.peerId ? state.localChecks.get(instance.id) : undefined
  return own ?? instance.checks ?? []
}

function rateSeries() {
  const now = Math.floor(Date.now() / 1000)
  const series = []
  for (let second = now - RATE_SECONDS + 1; second <= now; second++) {
    series.push({ second, count: state.perSecond.get(second) ?? 0 })
  }
  for (const second of state.perSecond.keys())
    if (second <= now - RATE_SECONDS) state.perSecond.delete(second)
  return series
}

let drawQueued = false
function schedule() {
  if (drawQueued) return
  drawQueued = true
  // A timer, not requestAnimationFrame: background tabs and headless browsers pause frames.
  setTimeout(() => {
    drawQueued = false
    draw()
  }, 0)
}

function draw() {
  if (state.self === undefined) return
  const selfId = state.self.peerId
  const members = [...state.members].sort((a, b) =>
    a.id === selfId ? -1 : b.id === selfId ? 1 : (a.name ?? a.id).localeCompare(b.name ?? b.id),
  )
  renderMembers($('members'), { members, selfId, agedBy: performance.now() - state.membersAt })
  const byState = {}
  for (const m of members) byState[m.state] = (byState[m.state] ?? 0) + 1
  $('members-count').textContent = Object.entries(byState)
    .map(([s, n]) => `${n} ${s}`)
    .join(' · ')

  renderServices($('services'), {
    services: state.services,
    selected: state.selected,
    onSelect: select,
  })
  const all = [...state.services.values()].flatMap((m) => [...m.values()])
  const counts = countByHealth(all)
  $('services-count').textContent = `${state.services.size}`

  $('self').replaceChildren(
    Object.assign(document.createElement('strong'), { textContent: state.self.nodeName }),
    ` ${shortId(selfId)}`,
  )
  $('summary').textContent =
    `${members.filter((m) => m.state === 'alive').length}/${members.length} members alive · ${state.services.size} services · ${all.length} instances (${counts.passing} passing, ${counts.warning} warning, ${counts.critical} critical)`

  const card = $('service-card')
  const instances = state.selected === undefined ? undefined : state.services.get(state.selected)
  card.hidden = state.selected === undefined
  if (state.selected !== undefined) {
    $('service-title').textContent = `Service ${state.selected}`
    const list = [...(instances?.values() ?? [])].sort((a, b) => (a.id < b.id ? -1 : 1))
    renderService($('instances'), { instances: list, nodeName, checksOf })
  }

  renderTimeline($('timeline'), { timeline: state.timeline })
  renderLog($('log'), { log: state.log, nodeName })
  $('log-count').textContent = state.log.length === 0 ? '' : `${state.log.length}`
  renderConflicts($('conflicts'), { conflicts: state.conflicts, nodeName })
  $('conflicts-count').textContent = `${state.conflicts.length}`
  const series = rateSeries()
  renderRate($('rate'), { rate: series })
  $('rate-total').textContent = `${series.reduce((sum, r) => sum + r.count, 0)} in the last minute`
}

// ---- the selected service follows the URL, so a service page can be linked ----

function select(name) {
  location.hash = name === undefined ? '' : `#/service/${encodeURIComponent(name)}`
}

function readHash() {
  const match = /^#\/service\/(.+)$/.exec(location.hash)
  state.selected = match === null ? undefined : decodeURIComponent(match[1])
  schedule()
}

window.addEventListener('hashchange', readHash)
$('service-close').addEventListener('click', () => select(undefined))
readHash()
// Ages "last heard" and slides the plot between messages.
setInterval(schedule, 1000)
void start()
