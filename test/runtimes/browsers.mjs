// Headless Chromium and Firefox ESR (the system's, from Debian packages) pointed at a page on
// 127.0.0.1; the page POSTs its results back to the server, so no WebDriver is needed. Chromium
// can also be driven over the DevTools protocol (WebSocket) for a screenshot.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { killGroup, spawnGroup } from './children.mjs';

export const BROWSERS = {
  chromium: { names: ['chromium', 'chromium-browser', 'google-chrome'], install: 'apt-get update && apt-get install -y chromium' },
  firefox: { names: ['firefox-esr', 'firefox'], install: 'apt-get update && apt-get install -y firefox-esr' },
};

export function which(names) {
  for (const n of names) {
    for (const d of (process.env.PATH ?? '').split(delimiter)) {
      const p = join(d, n);
      try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
    }
  }
  return null;
}

export function findBrowser(kind) { return which(BROWSERS[kind].names); }

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--no-first-run', '--disable-sync', '--disable-dev-shm-usage', '--no-default-browser-check', '--mute-audio'];

const FIREFOX_PREFS = {
  'browser.shell.checkDefaultBrowser': false, 'browser.aboutwelcome.enabled': false, 'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false, 'app.update.disabledForTesting': true, 'browser.startup.homepage_override.mstone': 'ignore',
  'network.captive-portal-service.enabled': false, 'network.connectivity-service.enabled': false, 'extensions.update.enabled': false,
  'browser.safebrowsing.update.enabled': false, 'browser.tabs.warnOnClose': false, 'dom.disable_open_during_load': false,
};

/** Launches a browser on `url`. extra.prefs: Firefox prefs (e.g. javascript.options.wasm_simd=false).
 *  Returns { stop(), output() , exited: Promise }. */
export function launch(kind, binary, url, extra = {}) {
  const profile = mkdtempSync(join(tmpdir(), `bitnet-${kind}-`));
  let args, env = { ...process.env };
  if (kind === 'chromium') {
    args = [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...(extra.args ?? []), url];
  } else {
    const prefs = { ...FIREFOX_PREFS, ...(extra.prefs ?? {}) };
    writeFileSync(join(profile, 'user.js'), Object.entries(prefs).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join('\n') + '\n');
    args = ['--headless', '--no-remote', '--profile', profile, ...(extra.args ?? []), url];
    env = { ...env, MOZ_HEADLESS: '1', MOZ_CRASHREPORTER_DISABLE: '1', MOZ_DISABLE_CONTENT_SANDBOX: '1' };
  }
  const removeProfile = () => { try { rmSync(profile, { recursive: true, force: true }); } catch { /* best effort */ } };
  const child = spawnGroup(binary, args, { env }, removeProfile);
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((r) => child.on('exit', (code, sig) => r(`${kind} exited (${code ?? sig})`)));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // The browser is the leader of its own process group (children.mjs): end that group, by its id.
    killGroup(child, 'SIGTERM');
    const t = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
    removeProfile();
  };
  return { child, stop, exited, output: () => output };
}

export async function version(binary) {
  const child = spawn(binary, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  await new Promise((r) => child.on('exit', r));
  return (/\d+\.\d+[\w.]*/.exec(out) ?? [out.trim()])[0];
}
