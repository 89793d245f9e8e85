/**
 * @grapevine/cli — the `grapevine` command: the agent daemon (`grapevine agent`) with its HTTP
 * API, the client commands that talk to it, and `grapevine demo`. The pieces are exported for
 * embedding: serve the HTTP API on any `Agent`, or call an agent's API from code.
 */
export type { LocalInstanceView, SelfInfo, WatchMessage } from './api-types.js'
export {
  type AgentClient,
  type AgentClientInit,
  createAgentClient,
  type IndexedInstances,
} from './client/agent-client.js'
export type { AgentConfig } from './config/agent-config.js'
export { DEFAULT_HTTP_ADDR } from './config/agent-config.js'
export { renderConfigTable } from './config/config-table.js'
export { type ConfigInputs, type ResolvedConfig, resolveConfig } from './config/resolve-config.js'
export type { DaemonContext, FrontEnd } from './daemon/front-end.js'
export { ListenError } from './daemon/listen-error.js'
export {
  AgentUnreachableError,
  ApiError,
  ConfigError,
  NotSupportedError,
  StreamClosedError,
  UnauthorizedError,
} from './errors.js'
export type {
  ApiAgent,
  CheckStatusView,
  HealthCheckMethods,
  TtlReport,
} from './http/agent-extensions.js'
export { createHttpApi, type HttpApi, type HttpApiInit } from './http/http-api.js'
export type { HttpRoutes } from './http/http-routes.js'
export type { CliIo } from './io.js'
export { createProgram, type ProgramOptions, runCli } from './program.js'
