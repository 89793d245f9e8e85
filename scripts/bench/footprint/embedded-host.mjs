// A host process embedding one agent, for the footprint benchmark: plain `node` on the
// compiled packages (no tsx, which would add its own memory). It samples its own RSS before
// it loads Grapevine, then loads it, starts an agent on 127.0.0.1 with one registration, idles
// and samples again; it prints one JSON line and leaves. argv: idle ms, sample interval ms.
const idleMs = Number(process.argv[2] ?? 10_000)
const intervalMs = Number(process.argv[3] ?? 500)
const settleMs = Math.min(5_000, idleMs / 2)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

await sleep(200) // let node's own start-up settle
const before = process.memoryUsage.rss()
const { createAgent } = await import('@grapevine/agent')
const agent = await createAgent({
  cluster: `footprint-${process.pid}`,
  mdns: false,
  listen: ['/ip4/127.0.0.1/tcp/0'],
})
await agent.ready
await agent.register({ name: 'embedded', endpoints: ['http://127.0.0.1:8080'] })
await sleep(settleMs)
const samples = []
for (let waited = settleMs; waited < idleMs; waited += intervalMs) {
  samples.push(process.memoryUsage.rss())
  await sleep(intervalMs)
}
await agent.leave()
console.log(JSON.stringify({ before, samples }))
