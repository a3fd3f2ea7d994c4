// Loads a page in headless Chromium over the DevTools protocol, waits until the page sets
// document.body.dataset.done, and saves a PNG screenshot. Needs a Node with a global WebSocket
// (22+): the matrix runs it with the npm Node 24.
//   node24 test/runtimes/screenshot.mjs <chromium> <url> <out.png> [timeoutMs]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [binary, url, out, timeoutArg] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg ?? 120000);
const profile = mkdtempSync(join(tmpdir(), 'bitnet-shot-'));
const child = spawn(binary, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--no-first-run', '--disable-sync', '--disable-dev-shm-usage', '--hide-scrollbars', '--window-size=1000,800',
  `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
const stop = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };
const deadline = setTimeout(() => { console.error(`timeout after ${timeoutMs} ms`); stop(); process.exit(2); }, timeoutMs);

try {
  const wsUrl = await new Promise((ok, fail) => {
    let err = '';
    child.stderr.on('data', (d) => { err += d; const m = /DevTools listening on (ws:\/\/\S+)/.exec(err); if (m) ok(m[1]); });
    child.on('exit', () => fail(new Error(`chromium exited: ${err.slice(-2000)}`)));
  });
  const port = new URL(wsUrl).port;
  const target = await (await fetch(`http://127.0.0.1:${port}/json/new?${encodeURIComponent(url)}`, { method: 'PUT' })).json();
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (ev) => { const m = JSON.parse(ev.data); if (m.id && pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); } };
  const send = (method, params = {}) => new Promise((ok) => { const i = ++id; pending.set(i, ok); ws.send(JSON.stringify({ id: i, method, params })); });
  for (;;) {
    const r = await send('Runtime.evaluate', { expression: 'document.body && document.body.dataset.done', returnByValue: true });
    if (r.result?.result?.value === '1') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const shot = await send('Page.captureScreenshot', { format: 'png' });
  writeFileSync(out, Buffer.from(shot.result.data, 'base64'));
  console.log(`saved ${out}`);
  ws.close();
} finally {
  clearTimeout(deadline);
  stop();
  try { rmSync(profile, { recursive: true, force: true }); } catch { /* best effort */ }
}
