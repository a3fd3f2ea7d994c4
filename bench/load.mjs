// Model loading speed, before/after in one run: each build (this checkout's dist/, and with --before
// another checkout's, e.g. main's) loads FILE from its path and from bytes already in memory, in a
// fresh module instance (its linear memory never touched: the OS's first-touch page faults are
// part of the figure) and again into the same instance (memory reused: the loader's own work).
// Rounds alternate builds and modes so that a busy machine's drift hits all alike; the best round
// per cell is shown, with the process CPU time of that load (threads included).
//
//   node bench/load.mjs FILE [--before DIR] [--modes path,bytes] [--kernel K] [--ctx 256] [--rounds 3]
//
// Run it with each Node to compare (Node 20: simd128; test/node_modules/node24/bin/node: relaxed).
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);

if (argv[0] === '--child') {
  const [, dist, file, mode, kernel, ctx] = argv;
  const lib = await import(pathToFileURL(resolve(dist, 'index.js')).href);
  const rt = await lib.createRuntime();
  const bytes = mode === 'bytes' ? readFileSync(file) : null;
  const once = async () => {
    const t0 = performance.now(), c0 = process.cpuUsage();
    const m = await lib.loadModel(bytes ?? file, { runtime: rt, contextLength: Number(ctx), ...(kernel !== '-' ? { kernel } : {}) });
    const ms = performance.now() - t0, c = process.cpuUsage(c0);
    const out = { ms, cpuMs: (c.user + c.system) / 1000, kernel: m.kernel, build: rt.build };
    m.dispose();
    return out;
  };
  const fresh = await once(), reused = await once();
  console.log(JSON.stringify({ fresh, reused }));
  process.exit(0);
}

const file = resolve(argv.find((a, i) => !a.startsWith('-') && !(i > 0 && argv[i - 1].startsWith('-'))) ?? '');
const size = statSync(file).size;
const builds = [['after', resolve('dist')], ...(opt('--before') ? [['before', resolve(opt('--before'), 'dist')]] : [])];
const modes = opt('--modes', 'path,bytes').split(',');
const kernel = opt('--kernel', '-'), ctx = opt('--ctx', '256'), rounds = Number(opt('--rounds', 3));
console.log(`${file}: ${(size / 1e9).toFixed(3)} GB; node ${process.version}; CPU ${cpus()[0]?.model ?? '?'} x${cpus().length}; ctx ${ctx}; ${rounds} rounds`);
const best = new Map();
for (let r = 0; r < rounds; r++) {
  for (const [name, dist] of r % 2 ? [...builds].reverse() : builds) {
    for (const mode of modes) {
      const p = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--child', dist, file, mode, kernel, ctx], { encoding: 'utf8', maxBuffer: 1 << 24 });
      const line = p.stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) { console.log(`FAIL ${name} ${mode}: ${(p.stderr || p.stdout).slice(-1000)}`); continue; }
      const res = JSON.parse(line);
      for (const phase of ['fresh', 'reused']) {
        const key = `${name} ${mode} ${phase}`, v = res[phase], prev = best.get(key);
        if (!prev || v.ms < prev.ms) best.set(key, v);
      }
    }
  }
}
console.log('build   source  memory   kernel       load ms   GB/s   CPU ms');
for (const [key, v] of best) {
  const [name, mode, phase] = key.split(' ');
  console.log(`${name.padEnd(7)} ${mode.padEnd(7)} ${phase.padEnd(8)} ${v.kernel.padEnd(12)} ${v.ms.toFixed(0).padStart(7)} ${(size / 1e6 / v.ms).toFixed(3).padStart(6)} ${v.cpuMs.toFixed(0).padStart(8)}`);
}
