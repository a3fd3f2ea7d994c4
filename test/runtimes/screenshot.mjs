// Loads a page in headless Chromium over the DevTools protocol (cdp.mjs), waits until the page sets
// document.body.dataset.done, and saves a PNG screenshot. Needs a Node with a global WebSocket
// (22+): the matrix runs it with the npm Node 24.
//   node24 test/runtimes/screenshot.mjs <chromium> <url> <out.png> [timeoutMs]
import { writeFileSync } from 'node:fs';
import { openChromium } from './cdp.mjs';

const [binary, url, out, timeoutArg] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg ?? 120000);
let browser = null;
const deadline = setTimeout(() => { console.error(`timeout after ${timeoutMs} ms`); browser?.close(); process.exit(2); }, timeoutMs);
try {
  browser = await openChromium(binary);
  await browser.open(url);
  writeFileSync(out, await browser.screenshot());
  console.log(`saved ${out}`);
} finally {
  clearTimeout(deadline);
  browser?.close();
}
