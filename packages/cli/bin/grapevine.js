#!/usr/bin/env -S node --max-semi-space-size=1
// The installed command: the compiled CLI, bundled into dist/bundle (see scripts/bundle-cli.mjs;
// `npm run build` makes it in a checkout). The V8 flag caps the young generation at 1 MiB per
// semi-space: Node's default lets it grow to 16 MiB while modules load and then keeps it, which
// is most of the difference between an idle daemon at 60 MiB and one at 75.
await import('../dist/bundle/main.js')
