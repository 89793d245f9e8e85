// DOM builders of the dashboard. Every value from the registry goes in as text (textContent),
// never as markup: names, tags and metadata are written by whoever registers.

/** `el('td', {class: 'x'}, 'text', child)` */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'class') node.className = value
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value)
    else node.setAttribute(key, value === true ? '' : String(value))
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue
    node.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return node
}

/** Peer ids are 52 characters; the last 8 tell peers apart. */
export function shortId(id) {
  return id.length > 12 ? `…${id.slice(-8)}` : id
}

export function ago(ms) {
  if (ms === null || ms === undefined) return 'never'
  if (ms < 1000) return `${Math.round(ms)} ms ago`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s ago`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`
  return `${Math.floor(ms / 3_600_000)} h ago`
}

export function clock(at) {
  const d = new Date(at)
  const pad = (n, w = 2) => String(n).padStart(w, '0')
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}

function replace(container, nodes) {
  container.replaceChildren(...nodes)
}

function empty(columns, text) {
  return el('tr', { class: 'empty' }, el('td', { colspan: columns }, text))
}

function chips(items, kind = 'chip') {
  return items.map((item) => el('span', { class: kind }, item))
}

/** The members table: this node first and marked, then the others by name. */
export function renderMembers(tbody, { members, selfId, agedBy }) {
  if (members.length === 0) return replace(tbody, [empty(5, 'No members yet.')])
  replace(
    tbody,
    members.map((m) =>
      el(
        'tr',
        { 'data-member-id': m.id, 'data-state': m.state, class: m.id === selfId ? 'self' : '' },
        el(
          'td',
          {},
          el(
            'div',
            { class: 'node-name' },
            m.name ?? shortId(m.id),
            m.id === selfId && el('span', { class: 'you' }, 'this agent'),
          ),
          el('div', { class: 'peer-id', title: m.id }, m.id),
        ),
        el('td', {}, el('span', { class: `state state-${m.state}` }, m.state)),
        el('td', { class: 'num' }, m.gen),
        el(
          'td',
          { class: 'muted' },
          m.id === selfId ? '—' : ago(m.lastHeardMsAgo === null ? null : m.lastHeardMsAgo + agedBy),
        ),
        el(
          'td',
          { class: 'addresses' },
          m.addresses.length === 0 ? '—' : m.addresses.map((a) => el('div', {}, a)),
        ),
      ),
    ),
  )
}

function healthBar(counts) {
  const total = counts.passing + counts.warning + counts.critical
  const segment = (status) =>
    counts[status] === 0
      ? null
      : el(
          'span',
          {
            class: `seg seg-${status}`,
            style: `flex-grow:${counts[status]}`,
            title: `${counts[status]} ${status}`,
          },
          counts[status],
        )
  return el(
    'div',
    { class: 'health' },
    el(
      'div',
      { class: 'bar' },
      total === 0 ? null : ['passing', 'warning', 'critical'].map(segment),
    ),
  )
}

export function countByHealth(instances) {
  const counts = { passing: 0, warning: 0, critical: 0 }
  for (const i of instances) counts[i.status] = (counts[i.status] ?? 0) + 1
  return counts
}

function distinct(values) {
  return [...new Set(values)].filter((v) => v !== '').sort()
}

/** The services table: every service, critical-only ones too, with counts by health. */
export function renderServices(tbody, { services, selected, onSelect }) {
  const names = [...services.keys()].sort()
  if (names.length === 0) return replace(tbody, [empty(5, 'No services registered.')])
  replace(
    tbody,
    names.map((name) => {
      const instances = [...services.get(name).values()]
      const counts = countByHealth(instances)
      return el(
        'tr',
        {
          'data-service': name,
          class: `clickable${name === selected ? ' selected' : ''}`,
          onclick: () => onSelect(name),
        },
        el('td', {}, el('a', { href: `#/service/${encodeURIComponent(name)}` }, name)),
        el('td', { class: 'num' }, instances.length),
        el(
          'td',
          {},
          healthBar(counts),
          el(
            'div',
            { class: 'counts' },
            `${counts.passing} passing · ${counts.warning} warning · ${counts.critical} critical`,
          ),
        ),
        el('td', {}, chips(distinct(instances.map((i) => i.version)))),
        el('td', {}, chips(distinct(instances.flatMap((i) => i.tags)), 'chip tag')),
      )
    }),
  )
}

function checkList(checks) {
  if (checks.length === 0) return el('span', { class: 'muted' }, 'no checks')
  return el(
    'ul',
    { class: 'checks' },
    checks.map((c) =>
      el(
        'li',
        { 'data-check-id': c.id },
        el('span', { class: `dot dot-${c.status}`, title: c.status }),
        el('span', { class: 'check-name' }, c.name ?? c.id),
        el('span', { class: `check-status status-${c.status}` }, c.status),
        c.output ? el('div', { class: 'check-output' }, c.output) : null,
      ),
    ),
  )
}

/** One service: every instance with endpoints, tags, metadata, node and checks. */
export function renderService(tbody, { instances, nodeName, checksOf }) {
  if (instances.length === 0) return replace(tbody, [empty(8, 'No instances.')])
  replace(
    tbody,
    instances.map((i) =>
      el(
        'tr',
        { 'data-instance-id': i.id, 'data-status': i.status },
        el('td', { class: 'mono' }, i.id),
        el('td', {}, el('span', { class: `status status-${i.status}` }, i.status)),
        el('td', {}, i.version || '—'),
        el(
          'td',
          { class: 'mono' },
          i.endpoints.length === 0 ? '—' : i.endpoints.map((e) => el('div', {}, e)),
        ),
        el('td', {}, i.tags.length === 0 ? '—' : chips(i.tags, 'chip tag')),
        el(
          'td',
          { class: 'mono' },
          Object.keys(i.metadata).length === 0
            ? '—'
            : Object.keys(i.metadata)
                .sort()
                .map((k) =>
                  el('div', {}, el('span', { class: 'meta-key' }, k), '=', i.metadata[k]),
                ),
        ),
        el(
          'td',
          {},
          el('div', { class: 'node-name' }, nodeName(i.node)),
          el('div', { class: 'peer-id', title: i.node }, shortId(i.node)),
        ),
        el('td', {}, checkList(checksOf(i))),
      ),
    ),
  )
}

const OP_LABEL = { add: 'add', update: 'update', delete: 'delete' }

/** The event log, newest first. */
export function renderLog(list, { log, nodeName }) {
  if (log.length === 0)
    return replace(list, [el('li', { class: 'empty' }, 'No changes since this agent started.')])
  replace(
    list,
    log
      .slice(-100)
      .reverse()
      .map((e) =>
        el(
          'li',
          { 'data-op': e.op, 'data-instance-id': e.instance.id },
          el('time', {}, clock(e.at)),
          el('span', { class: `op op-${e.op}` }, OP_LABEL[e.op] ?? e.op),
          el(
            'span',
            { class: 'what' },
            el('strong', {}, e.instance.name),
            ' ',
            el('span', { class: 'mono' }, e.instance.id),
          ),
          el('span', { class: `cause cause-${e.cause}` }, e.cause),
          el('span', { class: 'muted' }, `on ${nodeName(e.instance.node)}`),
        ),
      ),
  )
}

const CHANGE_LABEL = {
  joined: 'joined',
  alive: 'alive again',
  suspect: 'suspect',
  dead: 'dead',
  left: 'left',
}

/** Membership changes, newest first. */
export function renderTimeline(list, { timeline }) {
  if (timeline.length === 0)
    return replace(list, [el('li', { class: 'empty' }, 'No membership changes yet.')])
  replace(
    list,
    timeline
      .slice(-100)
      .reverse()
      .map((c) =>
        el(
          'li',
          { 'data-member-id': c.id, 'data-change': c.change },
          el('time', {}, clock(c.at)),
          el(
            'span',
            { class: `state state-${c.change === 'joined' ? 'alive' : c.change}` },
            CHANGE_LABEL[c.change] ?? c.change,
          ),
          el(
            'span',
            { class: 'what' },
            el('strong', {}, c.name ?? shortId(c.id)),
            ' ',
            el('span', { class: 'muted' }, `gen ${c.gen}`),
          ),
        ),
      ),
  )
}

export function renderConflicts(container, { conflicts, nodeName }) {
  if (conflicts.length === 0)
    return replace(container, [
      el('p', { class: 'empty ok' }, 'No conflicts: every instance id has one owner.'),
    ])
  replace(container, [
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', {}, 'Instance'),
          el('th', {}, 'Service'),
          el('th', {}, 'Shown from'),
          el('th', {}, 'Claimed by'),
        ),
      ),
      el(
        'tbody',
        {},
        conflicts.map((c) =>
          el(
            'tr',
            { 'data-conflict-id': c.id },
            el('td', { class: 'mono' }, c.id),
            el('td', {}, c.winner.name),
            el('td', {}, nodeName(c.winner.node)),
            el(
              'td',
              {},
              c.claimants.map((n) => el('div', {}, nodeName(n))),
            ),
          ),
        ),
      ),
    ),
  ])
}

/** Bars of change events per second over the last 60 s. */
export function renderRate(svg, { rate }) {
  const ns = 'http://www.w3.org/2000/svg'
  const width = 600
  const height = 120
  const max = Math.max(1, ...rate.map((r) => r.count))
  const step = width / rate.length
  const nodes = []
  for (const fraction of [0.5, 1]) {
    const line = document.createElementNS(ns, 'line')
    const y = height - (height - 14) * fraction
    for (const [k, v] of Object.entries({ x1: 0, x2: width, y1: y, y2: y, class: 'grid' }))
      line.setAttribute(k, v)
    nodes.push(line)
  }
  rate.forEach((r, n) => {
    const h = r.count === 0 ? 0 : Math.max(2, ((height - 14) * r.count) / max)
    const rect = document.createElementNS(ns, 'rect')
    for (const [k, v] of Object.entries({
      x: n * step + 1,
      y: height - h,
      width: Math.max(1, step - 2),
      height: h,
      rx: 1.5,
    }))
      rect.setAttribute(k, v)
    const title = document.createElementNS(ns, 'title')
    title.textContent = `${r.count} change${r.count === 1 ? '' : 's'}`
    rect.append(title)
    nodes.push(rect)
  })
  const label = document.createElementNS(ns, 'text')
  for (const [k, v] of Object.entries({ x: 4, y: 11, class: 'max' })) label.setAttribute(k, v)
  label.textContent = `${max}/s`
  nodes.push(label)
  svg.replaceChildren(...nodes)
}
