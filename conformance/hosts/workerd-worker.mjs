// Host for Cloudflare workerd: the library through its "workerd" entry (dist/workerd.js, which
// imports both .wasm builds as modules), the model as a data module (an ArrayBuffer). GET / runs
// the cases and answers with the report as JSON. The runner starts workerd with a generated config
// (test/runtimes/workerd.mjs) that embeds exactly these modules.
import * as lib from '../../dist/workerd.js';
import model from '../tiny.gguf';
import { runAll } from '../cases.mjs';

export default {
  async fetch(request) {
    const url = new URL(request.url);
    try {
      const threads = (url.searchParams.get('threads') ?? '').split(',').filter(Boolean).map(Number);
      const report = await runAll(lib, { modelBytes: new Uint8Array(model), runtime: 'workerd', version: url.searchParams.get('version') ?? 'unknown', threads });
      return Response.json(report);
    } catch (e) {
      return Response.json({ fatal: `${e && e.code ? e.code + ': ' : ''}${e && e.stack || e}` });
    }
  },
};
