import type { Member, ServiceInstance } from '@grapevine/core'
import { describe, expect, it } from 'vitest'
import { formatMembers } from '../src/output/format-members.js'
import { formatWatchFrame } from '../src/output/format-watch.js'
import { renderTable } from '../src/output/table.js'
import { parseEventStream } from './support/event-stream-parser.js'

describe('renderTable', () => {
  it('pads columns to the widest cell without trailing spaces', () => {
    expect(
      renderTable(
        ['A', 'LONG HEADER', 'C'],
        [
          ['xxxx', 'y', ''],
          ['z', 'w', 'v'],
        ],
      ),
    ).toBe('A     LONG HEADER  C\nxxxx  y\nz     w            v')
  })
})

describe('formatMembers', () => {
  it('shows states, last heard and a summary', () => {
    const members: Member[] = [
      {
        id: 'self-id',
        name: 'edge-1',
        addresses: ['/ip4/127.0.0.1/tcp/1'],
        state: 'alive',
        gen: 3,
        lastHeardMsAgo: 0,
        self: true,
      },
      { id: 'peer-b', addresses: [], state: 'suspect', gen: 1, lastHeardMsAgo: 1500, self: false },
      { id: 'peer-c', addresses: [], state: 'dead', gen: 2, lastHeardMsAgo: null, self: false },
    ]
    expect(formatMembers(members)).toBe(
      [
        '  NAME    PEER ID  STATE    GEN  LAST HEARD  ADDRESSES',
        '* edge-1  self-id  alive    3    -           /ip4/127.0.0.1/tcp/1',
        '  -       peer-b   suspect  1    1.5s ago    -',
        '  -       peer-c   dead     2    never       -',
        '',
        '3 members (1 alive, 1 suspect, 1 dead); * = this node',
      ].join('\n'),
    )
  })
})

describe('formatWatchFrame', () => {
  const instance: ServiceInstance = {
    id: 'web-1',
    name: 'web',
    version: '',
    metadata: {},
    endpoints: [],
    tags: [],
    status: 'passing',
    node: 'n',
  }
  const at = new Date('2026-01-02T03:04:05')

  it('prints one JSON line with --json', () => {
    const frame = formatWatchFrame(
      {
        type: 'change',
        index: 7,
        instances: [instance],
        event: { op: 'add', instance, cause: 'registered' },
        events: [{ op: 'add', instance, cause: 'registered' }],
      },
      { name: 'web', redraw: true, json: true, at },
    )
    expect(frame.endsWith('\n')).toBe(true)
    expect(frame.trim().split('\n')).toHaveLength(1)
    expect(JSON.parse(frame)).toMatchObject({ type: 'change', index: 7, event: { op: 'add' } })
  })

  it('clears the screen only when redrawing', () => {
    const message = { type: 'snapshot' as const, index: 7, instances: [] }
    expect(formatWatchFrame(message, { name: 'web', redraw: true, json: false, at })).toBe(
      '\x1b[H\x1b[2Jweb: 0 instances at 03:04:05 (index 7)\ninitial snapshot\n\nNo instances of web.\n\nCtrl-C to stop.\n',
    )
    expect(formatWatchFrame(message, { name: 'web', redraw: false, json: false, at })).toBe(
      'web: 0 instances at 03:04:05 (index 7)\ninitial snapshot\n\nNo instances of web.\n\n',
    )
  })
})

describe('parseEventStream', () => {
  async function parse(chunks: string[]) {
    const encoder = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
        controller.close()
      },
    })
    const events = []
    for await (const event of parseEventStream(body)) events.push(event)
    return events
  }

  it('parses events split across chunks, with CRLF, comments and multi-line data', async () => {
    expect(
      await parse([
        'retry: 1000\n\n: keep-alive\n\nevent: snap',
        'shot\r\nid: 4\r\ndata: {"a":\r',
        '\ndata: 1}\r\n\r\ndata: plain\n\n',
      ]),
    ).toEqual([
      { event: 'snapshot', id: '4', data: '{"a":\n1}' },
      { event: 'message', id: '4', data: 'plain' },
    ])
  })
})
