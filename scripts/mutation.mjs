// `npm run mutation [-- sampling,config,reader,tokenizer]`: StrykerJS over src/ (config in
// tools/mutation/). Stryker lives in tools/mutation/node_modules, installed here on first use, so
// the library's own `npm ci` stays small; it needs Node >= 22, so it runs on the npm `node24`.
// Writes test-artifacts/mutation.json and prints the score table. Slow (minutes per file): not in
// `npm test` or CI.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const dir = 'tools/mutation';
const run = (cmd, args, env = {}) => spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;
if (!existsSync(`${dir}/node_modules/@stryker-mutator/core`)) {
  console.log(`installing StrykerJS into ${dir}/node_modules (first run only)`);
  if (run('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save']) !== 0) process.exit(1);
}
const node = Number(process.versions.node.split('.')[0]) >= 22 ? process.execPath : 'test/node_modules/node24/bin/node';
if (!existsSync(node)) { console.error('StrykerJS needs Node >= 22: run `node test/deps.mjs` (it installs node24)'); process.exit(1); }
const sets = process.argv[2];
process.exit(run(node, [`${dir}/node_modules/@stryker-mutator/core/bin/stryker.js`, 'run', `${dir}/stryker.config.mjs`], sets ? { MUTATE: sets } : {}));
