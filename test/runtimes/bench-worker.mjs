// The benchmark suite in workerd (bench-hosts.mjs): POST the options as JSON (models by the name of
// their embedded data module, relative to this one), get the run as JSON.
import { runBench, setProbeModule } from '../../build/bench/workerd.js';
import probe from '../../build/bench/probe.wasm';

setProbeModule(probe);

export default {
  async fetch(request) {
    if (request.method !== 'POST') return new Response('POST the options', { status: 405 });
    try {
      const o = await request.json();
      for (const m of o.models) m.file = new Uint8Array((await import(m.file)).default);
      return Response.json(await runBench(o));
    } catch (e) {
      return Response.json({ fatal: `${e && e.code ? e.code + ': ' : ''}${e && e.stack || e}` });
    }
  },
};
