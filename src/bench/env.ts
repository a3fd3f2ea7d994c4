// What a run records about where it ran: runtime and version, CPU model, cores, builds, the
// library's default kernel and the calibration's choice behind it.
import { createRuntime, init, type BuildName } from '../init.js';

declare const Deno: { version: { deno: string } } | undefined;
declare const Bun: { version: string } | undefined;

/** "node 24.9.0", "deno 2.9.6", "bun 1.4.5", "chromium 142.0.1", "firefox 140.5", "workerd". */
export function runtimeName(): string {
  if (typeof Deno !== 'undefined') return `deno ${Deno.version.deno}`;
  if (typeof Bun !== 'undefined') return `bun ${Bun.version}`;
  if (typeof process !== 'undefined' && process.versions?.node) return `node ${process.versions.node}`;
  const ua = (globalThis.navigator as { userAgent?: string } | undefined)?.userAgent ?? '';
  const m = /(Firefox|Chrome)\/([\d.]+)/.exec(ua);
  if (m) return `${m[1] === 'Chrome' ? 'chromium' : 'firefox'} ${m[2]}`;
  return ua.startsWith('Cloudflare-Workers') ? 'workerd' : ua || 'unknown';
}

async function cpuModel(): Promise<{ cpu: string; cores: number; os: string }> {
  try {
    const os = await import('node:os');
    const c = os.cpus();
    const cores = os.availableParallelism?.() || c.length;
    if (!cores) throw new Error('no CPU count here'); // a stand-in node:os (browser bundles): ask the navigator
    return { cpu: c[0]?.model?.trim() || 'unknown', cores, os: `${os.platform()} ${os.release()} ${os.arch()}` };
  } catch {
    return { cpu: 'unknown', cores: (globalThis.navigator as { hardwareConcurrency?: number } | undefined)?.hardwareConcurrency ?? 1, os: 'unknown' };
  }
}

/** The builds this runtime can instantiate (relaxed needs relaxed SIMD). */
export async function availableBuilds(): Promise<BuildName[]> {
  const out: BuildName[] = [];
  for (const build of ['simd128', 'relaxed'] as const) {
    try { await createRuntime({ build }); out.push(build); } catch { /* not in this runtime */ }
  }
  return out;
}

export async function benchEnv(pkg: string) {
  // One thread: the suite asks each test for its own thread count (the default may be every core).
  const info = await init({ threads: 1 });
  const c = info.calibration;
  return { package: pkg, runtime: runtimeName(), ...(await cpuModel()), builds: await availableBuilds(), defaultKernel: `${info.build}/${info.kernel}`,
    calibration: { gemv: c.gemv, gemm: c.gemm, byLayout: c.byLayout, measured: c.measured, ms: c.ms } };
}
