# workerd config that runs the example locally on 127.0.0.1:8787 (after `node build.mjs`):
#   npx workerd serve examples/cloudflare-worker/config.capnp
#   curl -N http://127.0.0.1:8787/v1/completions -d '{"prompt": "Once upon a time", "stream": true}'
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .completionWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const completionWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "dist/worker.js"),
    (name = "bitnet-simd128.wasm", wasm = embed "dist/bitnet-simd128.wasm"),
    (name = "bitnet-relaxed.wasm", wasm = embed "dist/bitnet-relaxed.wasm"),
    (name = "model.gguf", data = embed "dist/model.gguf"),
  ],
  compatibilityDate = "2025-09-01",
);
