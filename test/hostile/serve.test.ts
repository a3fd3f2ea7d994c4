// The example page server survives malformed requests (GET /% threw an uncaught URIError and
// killed it) and keeps serving.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // A raw path: fetch() would normalize or refuse these.
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); });
    req.on('error', reject);
    req.end();
  });
}

describe('examples/browser/serve.mjs', () => {
  it('answers GET /% and other bad paths with an error status and keeps running', async () => {
    const server = spawn(process.execPath, ['examples/browser/serve.mjs', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        server.stdout.on('data', (d: Buffer) => { const m = /:(\d+)\//.exec(String(d)); if (m) resolve(Number(m[1])); });
        server.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
      });
      expect(await get(port, '/%')).toBe(400);
      expect(await get(port, '/%E0%A4%A')).toBe(400);
      expect(await get(port, '/../../package.json')).not.toBe(200);
      expect(await get(port, '/dist/')).not.toBe(200);
      expect(await get(port, '/index.html')).toBe(200);
      expect(server.exitCode).toBeNull();
    } finally {
      server.kill();
    }
  });
});
