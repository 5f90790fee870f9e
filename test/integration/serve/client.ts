// A small HTTP client for the serve tests: status, headers and the parsed JSON (or text) body.
import { request, type Agent } from 'node:http';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A v2 request for the churn model's single input. */
export function churnRequest(rows: number[][], extra: Record<string, unknown> = {}) {
  return { ...extra, inputs: [{ name: 'input', shape: [rows.length, rows[0]?.length ?? 0], datatype: 'FP32', data: rows }] };
}

/** A POST through node:http with the given keep-alive agent (for many concurrent connections). */
export function post(agent: Agent, url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
