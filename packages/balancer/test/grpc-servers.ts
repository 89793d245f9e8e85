import {
  type CallOptions,
  type ChannelOptions,
  type Client,
  type ClientUnaryCall,
  credentials,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type ServiceError,
  type sendUnaryData,
} from '@grpc/grpc-js'

/** One unary method, `/test.Who/Ami`, whose reply is the server's name: no .proto needed. */
const definition: ServiceDefinition = {
  ami: {
    path: '/test.Who/Ami',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: string) => Buffer.from(value),
    requestDeserialize: (bytes: Buffer) => bytes.toString(),
    responseSerialize: (value: string) => Buffer.from(value),
    responseDeserialize: (bytes: Buffer) => bytes.toString(),
    originalName: 'ami',
  },
}

export interface TestGrpcServer {
  readonly name: string
  /** `grpc://127.0.0.1:PORT` */
  readonly endpoint: string
  hits: number
  /** Drops every connection and stops listening: later connections are refused. */
  kill(): void
}

export async function startGrpcServer(name: string): Promise<TestGrpcServer> {
  const server = new Server()
  const state = { name, hits: 0, endpoint: '', kill: () => server.forceShutdown() }
  server.addService(definition, {
    ami: (_call: ServerUnaryCall<string, string>, callback: sendUnaryData<string>) => {
      state.hits++
      callback(null, name)
    },
  })
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  )
  state.endpoint = `grpc://127.0.0.1:${port}`
  return state
}

interface WhoClient extends Client {
  ami(
    request: string,
    options: CallOptions,
    callback: (err: ServiceError | null, reply?: string) => void,
  ): ClientUnaryCall
}

const WhoClientConstructor = makeGenericClientConstructor(definition, 'Who') as unknown as new (
  target: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: ChannelOptions,
) => WhoClient

export interface TestGrpcClient {
  /** Calls `Ami` with a deadline; resolves with the answering server's name. */
  ami(timeoutMs?: number): Promise<string>
  close(): void
}

export function grpcClient(target: string, options: ChannelOptions = {}): TestGrpcClient {
  const client = new WhoClientConstructor(target, credentials.createInsecure(), options)
  return {
    ami: (timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        client.ami('?', { deadline: Date.now() + timeoutMs }, (err, reply) =>
          err ? reject(err) : resolve(reply ?? ''),
        )
      }),
    close: () => client.close(),
  }
}
