import { createAgent, type GrapevineAgent } from '@grapevine/agent'
import type { ServiceEvent } from '@grapevine/core'
import { waitFor } from '@grapevine/core/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { type AgentProcess, startAgentProcess } from './support/agent-process.js'
import { loopbackOptions } from './support/cluster.js'

// Found by the chaos soak after SWIM landed: an agent starved for a moment right after a
// deregistration was declared dead; when it refuted, its peers showed the deregistered
// instance again until its DELTA arrived. Here the DELTA never arrives (the observer drops
// every DELTA and runs no periodic sync), so only the rule "back from dead, hidden until the
// origin says what it holds" keeps the deregistered instance from coming back.
describe('an origin back from dead in the same generation', () => {
  const cluster = `return-from-dead-${process.pid}`
  let origin: AgentProcess | undefined
  let observer: GrapevineAgent | undefined

  afterAll(async () => {
    await origin?.signal('SIGCONT')
    await origin?.signal('SIGKILL')
    await observer?.stop()
  })

  it('never shows what it deregistered while unheard, even for a moment', async () => {
    origin = await startAgentProcess(loopbackOptions({ cluster }))
    await origin.ready
    const gone = await origin.call<string>('register', { id: 'gone', name: 'svc' })
    await origin.call('register', { id: 'kept', name: 'svc' })
    // The observer learns both from its first sync; it never applies a DELTA.
    observer = await createAgent(
      loopbackOptions({
        cluster,
        bootstrap: origin.addresses,
        faults: { dropDeltas: 1 },
        timings: { syncInterval: 600_000 },
      }),
    )
    const seen = observer
    await waitFor('both on the observer', () => seen.getService('svc').length === 2)
    const events: ServiceEvent[] = []
    void (async () => {
      for await (const event of seen.events('svc')) events.push(event)
    })()

    await origin.call('deregister', gone) // its DELTA is dropped: the observer still shows it
    await origin.signal('SIGSTOP')
    await waitFor('the paused origin hidden', () => seen.getService('svc').length === 0, {
      timeoutMs: 15_000,
    })
    await origin.signal('SIGCONT')
    await waitFor(
      'the origin alive again on the observer',
      () => seen.getService('svc').some((instance) => instance.id === 'kept'),
      { timeoutMs: 15_000 },
    )
    expect(seen.getService('svc').map((instance) => instance.id)).toEqual(['kept'])
    const ofGone = events.filter((event) => event.instance.id === 'gone')
    expect(ofGone.map((event) => `${event.op}:${event.cause}`)).toEqual(['delete:expired'])
  }, 40_000)
})
