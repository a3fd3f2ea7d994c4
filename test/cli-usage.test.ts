// Wrong command lines, run as a user runs them (a real process: src/cli/bin.ts bundled by esbuild):
// each must exit with its code (2 = the command line is wrong, 1 = the work failed), print exactly
// one line on stderr naming the problem, and no stack trace. The table of messages is written to
// test-artifacts/cli-usage.md.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
// In build/, so that the bundle finds ../build/*.wasm and ../models/default.gguf as from src/.
const BIN = join(ROOT, 'build', `cli-test-${process.pid}.mjs`);
let dir = '';
const rows: string[] = [];

beforeAll(async () => {
  await build({ entryPoints: [join(ROOT, 'src/cli/bin.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: BIN, logLevel: 'silent' });
  dir = mkdtempSync(join(tmpdir(), 'cli-usage-'));
  writeFileSync(join(dir, 'bad.gguf'), 'hello, not a model at all');
  writeFileSync(join(dir, 'trunc.gguf'), readFileSync(join(ROOT, 'models/default.gguf')).subarray(0, 3000));
  writeFileSync(join(dir, 'short.txt'), 'A short text.');
  writeFileSync(join(dir, 'long.txt'), 'The jury said that the city would pay. '.repeat(20));
  writeFileSync(join(dir, 'secret.txt'), 'The jury said');
  chmodSync(join(dir, 'secret.txt'), 0o600);
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'adir'));
}, 60_000);

afterAll(() => {
  rmSync(BIN, { force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  writeFileSync(join(ROOT, 'test-artifacts/cli-usage.md'), ['| command line | exit | stderr |', '| --- | ---: | --- |', ...rows].join('\n') + '\n');
});

function cli(args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 60_000, ...opts });
  return { code: r.status, out: String(r.stdout), err: String(r.stderr) };
}

const D = () => dir; // paths are known only after beforeAll
type Case = [args: () => string[], code: 1 | 2, message: RegExp];
const CASES: Case[] = [
  [() => [], 2, /^bitnet-wasm: missing command \(run, logits, perplexity, bench, make-model, info, serve\); bitnet-wasm --help lists them$/],
  [() => ['frobnicate'], 2, /unknown command "frobnicate"; commands: run, logits/],
  [() => ['rn', '-p', 'x'], 2, /unknown command "rn" \(did you mean run\?\)/],
  [() => ['run'], 2, /^bitnet-wasm run: missing prompt: give -p TEXT or -f FILE; see bitnet-wasm run --help$/],
  [() => ['run', '-p', 'x', '--tmep', '0.5'], 2, /unknown option --tmep \(did you mean --temp\?\)/],
  [() => ['run', '-p', 'x', '--top_k', '5'], 2, /unknown option --top_k \(did you mean --top-k\?\)/],
  [() => ['run', '-p', 'x', '--json'], 2, /unknown option --json \(an option of logits, info\)/],
  [() => ['run', '-p', 'x', '-temp', '0.5'], 2, /unknown option -temp \(did you mean --temp\?\)/],
  [() => ['run', '-p', 'x', '--temp=abc'], 2, /--temp needs a number, got "abc"/],
  [() => ['run', '-p', 'x', '--top-p', '1.5'], 2, /--top-p must be a number in \[0, 1\], got 1\.5/],
  [() => ['run', '-p', 'x', '-n', '2.5'], 2, /-n \(--n-predict\) needs an integer, got "2\.5"/],
  [() => ['run', '-p', 'x', '--seed', '-5'], 2, /--seed must be an integer in \[0, 4294967295\] or -1, got -5/],
  [() => ['run', '-p', 'x', '-t', '65'], 2, /-t \(--threads\) must be an integer in \[1, 64\], got 65/],
  [() => ['run', '-p', 'x', '-t', '0'], 2, /-t \(--threads\) must be an integer in \[1, 64\], got 0/],
  [() => ['run', '-p', 'x', '-ngl', '99'], 2, /-ngl is a llama\.cpp option for GPU offload/],
  [() => ['run', '-p'], 2, /-p\/--prompt needs a value/],
  [() => ['run', '-p', '--temp', '0.5'], 2, /-p needs a value \(for a value that starts with '-', write --prompt=VALUE\)/],
  [() => ['run', '-p', 'x', '--no-display-prompt=yes'], 2, /--no-display-prompt takes no value/],
  [() => ['run', '-p', 'x', '-f', join(D(), 'short.txt')], 2, /give the prompt once: -p TEXT or -f FILE, not both/],
  [() => ['run', 'a.gguf', 'b.gguf', '-p', 'x'], 2, /unexpected argument "b\.gguf" \(run takes MODEL\)/],
  [() => ['run', '-p', 'x', '--build', 'fast'], 2, /--build must be one of simd128, relaxed, got "fast"/],
  [() => ['run', '-p', 'x', '-c', '0'], 2, /-c \(--ctx-size\) must be an integer in \[1, 1048576\], got 0/],
  [() => ['logits', '--tokens', '1,x'], 2, /--tokens needs comma-separated token ids like 1,2,3, got "1,x"/],
  [() => ['logits'], 2, /missing input: give --tokens LIST or -p TEXT/],
  [() => ['perplexity'], 2, /missing FILE \(or --file\)/],
  [() => ['bench', '-p', '100', '-n', '100', '-c', '150'], 2, /-p 100 \+ -n 100 tokens do not fit -c 150/],
  [() => ['make-model', '--preset', 'huge', '-o', 'x.gguf'], 2, /--preset must be one of tiny, large, 2b4t, llama3-8b, falcon3-10b, got "huge"/],
  [() => ['make-model', '--ternary', 'TQ2_1', '-o', 'x.gguf'], 2, /--ternary must be one of .*, got "TQ2_1" \(did you mean TQ2_0\?\)/],
  [() => ['info', '--ctx', '0', 'm.gguf'], 2, /--ctx must be an integer in \[1, 16777216\], got 0/],
  [() => ['run', '-m', join(D(), 'missing.gguf'), '-p', 'x'], 1, /^bitnet-wasm run: model \S+missing\.gguf: no such file or directory$/],
  [() => ['run', '-m', join(D(), 'adir'), '-p', 'x'], 1, /model \S+adir: is a directory, not a file/],
  [() => ['run', '-m', join(D(), 'bad.gguf'), '-p', 'x'], 1, /model \S+bad\.gguf: BAD_GGUF: bad magic 0x6c6c6568, not a GGUF file/],
  [() => ['run', '-m', join(D(), 'trunc.gguf'), '-p', 'x'], 1, /model \S+trunc\.gguf: TRUNCATED: /],
  [() => ['info', join(D(), 'bad.gguf')], 1, /bad\.gguf: BAD_GGUF: bad magic/],
  [() => ['run', '-f', join(D(), 'missing.txt')], 1, /prompt file \S+missing\.txt: no such file/],
  [() => ['run', '-f', join(D(), 'long.txt'), '-c', '16'], 1, /CONTEXT_OVERFLOW: the prompt has \d+ tokens and the context holds 16 \(-c sets it\)/],
  [() => ['perplexity', join(D(), 'short.txt'), '-c', '64'], 1, /has \d+ tokens; -c 64 needs at least 64 \(one window\): use a smaller -c or --all-tokens/],
  [() => ['logits', '--tokens', '1,99999'], 1, /BAD_ARGUMENT: token id 99999 is out of range \(vocabulary 2048\)/],
  [() => ['make-model', '-o', join(D(), 'no/such/dir/x.gguf')], 1, /x\.gguf: no such file/],
];

describe('wrong command lines: one line on stderr, exit 1 or 2, no stack trace', () => {
  it.each(CASES.map(([a, code, re], i) => ({ i, a, code, re })))('case $i', ({ a, code, re }) => {
    const args = a();
    const r = cli(args);
    const shown = args.map((x) => (/[\s"]/.test(x) || x === '' ? JSON.stringify(x) : x.replace(dir, '$TMP'))).join(' ');
    rows.push(`| \`bitnet-wasm ${shown}\` | ${r.code} | ${r.err.trim().replace(dir, '$TMP').replaceAll('|', '\\|')} |`);
    expect(r.err.endsWith('\n')).toBe(true);
    expect(r.err.trimEnd().split('\n'), r.err).toHaveLength(1);
    expect(r.err).not.toMatch(/^\s+at |Error:|node:internal/m);
    expect(r.err.trimEnd()).toMatch(re);
    expect(r.code).toBe(code);
    expect(r.out).toBe('');
  });

  it('a file that cannot be read: "permission denied" (as an unprivileged user when the tests run as root)', async () => {
    const asRoot = process.getuid?.() === 0;
    if (!asRoot) chmodSync(join(dir, 'secret.txt'), 0o000);
    // As root, root's files would all be readable: run as nobody a self-contained bundle (the
    // checkout may sit in a directory nobody cannot enter); it fails before it needs the wasm.
    const bin = join(dir, 'cli-all.mjs');
    if (asRoot) await build({ entryPoints: [join(ROOT, 'src/cli/bin.ts')], bundle: true, platform: 'node', format: 'esm', outfile: bin, logLevel: 'silent' });
    const r = asRoot
      ? (({ status, stdout, stderr }) => ({ code: status, out: String(stdout), err: String(stderr) }))(
        spawnSync(process.execPath, [bin, 'run', '-f', join(dir, 'secret.txt')], { encoding: 'utf8', cwd: dir, uid: 65534, gid: 65534, timeout: 60_000 }))
      : cli(['run', '-f', join(dir, 'secret.txt')]);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^bitnet-wasm run: prompt file \S+secret\.txt: permission denied$/m);
    expect(r.code).toBe(1);
  });

  it('piped into head: stops at once and exits 0, quietly', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" run -p "The jury said" -n -1 -c 256 | head -c 5; echo "status \${PIPESTATUS[0]}" >&2`], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
    expect(r.stdout).toBe('The j');
    expect(r.stderr).toMatch(/status 0\n$/);
    expect(r.stderr).not.toMatch(/EPIPE|Error|^\s+at /m);
    // It stopped at the write that failed: no summary line after generation.
    expect(r.stderr).not.toMatch(/generated \d+ tokens/);
  });
});
