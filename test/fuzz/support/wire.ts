/**
 * Requests as the fuzz sends them: the app built by the api harness, listening on loopback,
 * and node's own HTTP client with a keep-alive agent. It sends what it is given, byte for
 * byte: the path is not normalised or re-encoded, the body is a Buffer, and headers are
 * latin-1 strings (text outside latin-1 is passed as its UTF-8 bytes, see `utf8Bytes`).
 * Chunked transfer is used when the case asks for it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface WireRequest {
  method: string;
  /** Exactly as it goes on the request line: already percent-encoded where the case wants it. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Send the body with `transfer-encoding: chunked` instead of a content-length. */
  chunked?: boolean;
}

export interface WireResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface Wire {
  send(request: WireRequest): Promise<WireResponse>;
  close(): Promise<void>;
}

/**
 * Whether node's HTTP parser refuses the request line before any application sees it: it
 * takes no byte from 0x7f up in a path (raw UTF-8 included) and answers a bare 400 with no
 * body itself (the server's default clientError handling), whatever the app would say.
 */
export function refusedByHttpParser(request: WireRequest): boolean {
  return /[\u007f-\u00ff]/.test(request.path);
}

/** Text as the latin-1 string of its UTF-8 bytes: how raw UTF-8 reaches a header or a request line. */
export function utf8Bytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

export async function listen(app: Express): Promise<Wire> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  function send(request: WireRequest): Promise<WireResponse> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...request.headers };
      const hasBody = request.body !== undefined;
      // Said outright: node's client sends a GET's body unframed unless told to chunk it.
      if (hasBody) headers[request.chunked ? 'transfer-encoding' : 'content-length'] = request.chunked ? 'chunked' : String(request.body!.length);
      const req = http.request({ host: '127.0.0.1', port, method: request.method, path: request.path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`no answer within 30 s to ${request.method} ${request.path}`)));
      req.on('error', reject);
      if (hasBody && request.chunked) {
        // A few chunks of uneven size, so the server sees a body that arrives in pieces.
        const body = request.body!;
        const cut = Math.floor(body.length / 3);
        if (cut > 0) req.write(body.subarray(0, cut));
        req.write(body.subarray(cut));
        req.end();
      } else {
        req.end(request.body);
      }
    });
  }

  return {
    send,
    async close() {
      agent.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
