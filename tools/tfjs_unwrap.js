#!/usr/bin/env node
// tfjs_unwrap.js - nsfwjs ships its TensorFlow.js models as UMD JavaScript wrappers
// (model.min.js exports the model.json object, each group1-shardNofM.min.js a base64 string
// of the shard's bytes). This turns one wrapper back into the plain file TensorFlow.js and
// aitag-convert read:
//
//   node tools/tfjs_unwrap.js IN.min.js OUT
//
// An object becomes JSON (JSON.stringify, so the bytes are deterministic and pinned by sha256
// in deps.lock); a string becomes the bytes it encodes in base64. Run by scripts/setup.sh.
'use strict';
const fs = require('fs');

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  process.stderr.write('usage: tfjs_unwrap.js IN.min.js OUT\n');
  process.exit(2);
}
// Evaluated as CommonJS whatever package.json files lie around it (a "type": "module" above
// the deps folder would otherwise change how require() reads a .js file).
const mod = { exports: {} };
// eslint-disable-next-line no-new-func
new Function('module', 'exports', 'define', fs.readFileSync(input, 'utf8'))(mod, mod.exports,
  undefined);
const value = mod.exports;
let bytes;
if (typeof value === 'string') bytes = Buffer.from(value, 'base64');
else if (value && typeof value === 'object') bytes = Buffer.from(JSON.stringify(value), 'utf8');
else {
  process.stderr.write(`tfjs_unwrap.js: ${input} exports neither an object nor a string\n`);
  process.exit(1);
}
fs.writeFileSync(output + '.tmp', bytes);
fs.renameSync(output + '.tmp', output);
