// Headless Chromium driven over the DevTools protocol (a WebSocket; Node >= 22 has one built in):
// open pages one after another in one browser profile, wait until a page sets
// document.body.dataset.done, read values from it, and take PNG screenshots.
import { killGroup, spawnGroup } from './children.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Starts Chromium on about:blank with one tab under our control. */
export async function openChromium(binary, { width = 1000, height = 800 } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'bitnet-cdp-'));
  const child = spawnGroup(binary, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--disable-sync', '--disable-dev-shm-usage', '--hide-scrollbars', `--window-size=${width},${height}`,
    `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] }, () => rmSync(profile, { recursive: true, force: true }));
  const close = () => {
    killGroup(child, 'SIGKILL');
    try { rmSync(profile, { recursive: true, force: true }); } catch { /* best effort */ }
  };
  try {
    const wsUrl = await new Promise((ok, fail) => {
      let err = '';
      child.stderr.on('data', (d) => { err += d; const m = /DevTools listening on (ws:\/\/\S+)/.exec(err); if (m) ok(m[1]); });
      child.on('exit', () => fail(new Error(`chromium exited: ${err.slice(-2000)}`)));
    });
    const port = new URL(wsUrl).port;
    const target = await (await fetch(`http://127.0.0.1:${port}/json/new?about:blank`, { method: 'PUT' })).json();
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
    let id = 0;
    const pending = new Map();
    ws.onmessage = (ev) => { const m = JSON.parse(ev.data); if (m.id && pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); } };
    const send = (method, params = {}) => new Promise((ok) => { const i = ++id; pending.set(i, ok); ws.send(JSON.stringify({ id: i, method, params })); });
    const evaluate = async (expression) => (await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })).result?.result?.value;
    return {
      send, evaluate,
      /** Loads url and waits (polling) until the page says it is done. */
      async open(url) {
        await evaluate('window.__previousPage = true'); // so that the old page's done flag is not taken for the new one's
        await send('Page.navigate', { url });
        for (;;) {
          if ((await evaluate('!window.__previousPage && document.body && document.body.dataset.done')) === '1') return;
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      async screenshot() { return Buffer.from((await send('Page.captureScreenshot', { format: 'png' })).result.data, 'base64'); },
      close() { ws.close(); close(); },
    };
  } catch (e) {
    close();
    throw e;
  }
}
