// Plain bundles (webpack, esbuild, rollup): the model is served next to the page; a bare string is
// a URL relative to the document.
import { runApp } from './app.js';

runApp('model.gguf');
