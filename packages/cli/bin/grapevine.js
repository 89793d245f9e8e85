#!/usr/bin/env node
// The published command runs the compiled JavaScript (`npm run build` makes it in a checkout).
await import('../dist/main.js')
