/**
 * The server's configuration files, made from the samples that ship with the server's own
 * module (config/development-postgres12.yaml and config/dynamicconfig/development-sql.yaml)
 * rather than written from scratch, so they follow the pinned server version. Only the
 * database, the ports and the log level change. The edits are on the text, and each must hit
 * exactly as often as expected: a sample that changed shape fails loudly here instead of
 * silently keeping a default port that another engineer's server may already hold.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface TemporalDatabase {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** Every port the four services listen on. Only the frontend's is chosen by the caller. */
export interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  metrics: number;
}

/**
 * Whether we can listen on 127.0.0.1:port right now. Binds and lets go again, so the port
 * may be taken before the server binds it; the server then fails at start, saying which.
 */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The frontend on the given port, everything else on distinct free ports below 32768: the
 * server records its services' ports in cluster_membership.rpc_port, a PostgreSQL smallint,
 * and fails at start on the usual ephemeral ports (32768 and up) that port 0 would give.
 */
export async function choosePorts(frontend: number): Promise<ServerPorts> {
  const taken = new Set([frontend]);
  const next = async (): Promise<number> => {
    for (let attempt = 0; attempt < 1000; attempt += 1) {
      const port = 10_000 + Math.floor(Math.random() * (32_767 - 10_000));
      if (!taken.has(port) && (await canListen(port))) {
        taken.add(port);
        return port;
      }
    }
    throw new Error('no free port between 10000 and 32767');
  };
  return {
    frontend,
    frontendHttp: await next(),
    frontendMembership: await next(),
    history: await next(),
    historyMembership: await next(),
    matching: await next(),
    matchingMembership: await next(),
    worker: await next(),
    workerMembership: await next(),
    metrics: await next(),
  };
}

function replaceExactly(text: string, from: string, to: string, times = 1): string {
  const found = text.split(from).length - 1;
  if (found !== times) throw new Error(`server config sample: expected "${from}" ${times} time(s), found it ${found} time(s)`);
  return text.split(from).join(to);
}

/** YAML double-quoted scalar; JSON's escapes are valid in it. */
const quoted = (value: string): string => JSON.stringify(value);

/**
 * Writes `<root>/config/development.yaml` (what `server --root <root> --config config --env
 * development start` reads) and the dynamic config file it names.
 */
export function writeServerConfig(options: {
  serverSource: string;
  root: string;
  database: TemporalDatabase;
  ports: ServerPorts;
  historyShards: number;
  logLevel: string;
}): void {
  const { serverSource, root, database: db, ports } = options;
  const configDir = path.join(root, 'config');
  mkdirSync(configDir, { recursive: true });

  // Nexus callbacks go to the frontend's HTTP port, which is no longer the sample's 7243.
  let dynamic = readFileSync(path.join(serverSource, 'config/dynamicconfig/development-sql.yaml'), 'utf8');
  dynamic = replaceExactly(dynamic, 'http://localhost:7243/', `http://127.0.0.1:${ports.frontendHttp}/`);
  const dynamicPath = path.join(configDir, 'dynamicconfig.yaml');
  writeFileSync(dynamicPath, dynamic);

  let text = readFileSync(path.join(serverSource, 'config/development-postgres12.yaml'), 'utf8');
  const edits: Array<[string, string, number?]> = [
    ['level: info', `level: ${options.logLevel}`],
    ['numHistoryShards: 4', `numHistoryShards: ${options.historyShards}`],
    // Both stores (executions and visibility) are on the same server.
    ['connectAddr: "127.0.0.1:5432"', `connectAddr: ${quoted(`${db.host}:${db.port}`)}`, 2],
    ['user: "temporal"', `user: ${quoted(db.user)}`, 2],
    ['password: "temporal"', `password: ${quoted(db.password)}`, 2],
    // pprof off (port 0); metrics on a free port, since 8000 is a popular one.
    ['port: 7936', 'port: 0'],
    ['listenAddress: "127.0.0.1:8000"', `listenAddress: "127.0.0.1:${ports.metrics}"`],
    ['grpcPort: 7233', `grpcPort: ${ports.frontend}`],
    ['membershipPort: 6933', `membershipPort: ${ports.frontendMembership}`],
    ['httpPort: 7243', `httpPort: ${ports.frontendHttp}`],
    ['grpcPort: 7234', `grpcPort: ${ports.history}`],
    ['membershipPort: 6934', `membershipPort: ${ports.historyMembership}`],
    ['grpcPort: 7235', `grpcPort: ${ports.matching}`],
    ['membershipPort: 6935', `membershipPort: ${ports.matchingMembership}`],
    ['grpcPort: 7239', `grpcPort: ${ports.worker}`],
    ['membershipPort: 6939', `membershipPort: ${ports.workerMembership}`],
    ['rpcAddress: "localhost:7233"', `rpcAddress: "127.0.0.1:${ports.frontend}"`],
    // The sample's path is relative to the server's working directory; ours is absolute.
    ['filepath: "config/dynamicconfig/development-sql.yaml"', `filepath: ${quoted(dynamicPath)}`],
  ];
  for (const [from, to, times] of edits) text = replaceExactly(text, from, to, times);
  writeFileSync(path.join(configDir, 'development.yaml'), text);
}
