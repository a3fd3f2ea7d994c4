// vite: the shipped model through the package export and vite's `?url` (vite serves or emits it).
import modelUrl from 'bitnet-wasm/models/default.gguf?url';
import { runApp } from './app.js';

runApp(modelUrl);
