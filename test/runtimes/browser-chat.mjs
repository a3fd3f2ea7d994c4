// The chat example page twice in one Chromium profile: the first visit downloads the model into
// the Cache API, the second loads it from there. Also presses Stop during a reply, and saves a
// screenshot of the second visit's finished reply. Run with Node >= 22 (WebSocket):
//   node24 test/runtimes/browser-chat.mjs <chromium> <page url> <out.png> [timeoutMs]
// Prints one line "BROWSER_CHAT_RESULT {first, second}" (each page's window.__result).
import { writeFileSync } from 'node:fs';
import { openChromium } from './cdp.mjs';

const [binary, url, out, timeoutArg] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg ?? 180000);
let browser = null;
const deadline = setTimeout(() => { console.error(`timeout after ${timeoutMs} ms`); browser?.close(); process.exit(2); }, timeoutMs);
try {
  browser = await openChromium(binary, { width: 900, height: 860 });
  const sep = url.includes('?') ? '&' : '?';
  await browser.open(`${url}${sep}autorun=1&report=first`);
  const first = await browser.evaluate('window.__result');
  await browser.open(`${url}${sep}autorun=1&stoptest=1&report=second`);
  const second = await browser.evaluate('window.__result');
  writeFileSync(out, await browser.screenshot());
  console.log('BROWSER_CHAT_RESULT ' + JSON.stringify({ first, second }));
} finally {
  clearTimeout(deadline);
  browser?.close();
}
