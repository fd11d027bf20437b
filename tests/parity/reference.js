#!/usr/bin/env node
// reference.js - runs a TensorFlow.js graph model with TensorFlow.js itself (the pure
// JavaScript CPU backend) on an input read from a file, as the ground truth for aitag's
// converted ONNX models (tests/unit/test_parity.c).
//
//   node reference.js MODEL_JSON INPUT_F32 DIMS OUT_F32 [OUTPUT_NAME...]
//
// MODEL_JSON: model.json with its shards beside it. INPUT_F32: raw little-endian float32 of
// shape DIMS ("1,512,512,3"), fed as int32 when the model's input is int32. OUT_F32 receives every output's float32 values one after the
// other (int outputs are converted to float); stdout gets one JSON line
// {"outputs":[{"name":..., "shape":[...]}, ...]} in the same order. Output names default to the
// model signature's outputs ("name" fields), in file order.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfc = require('@tensorflow/tfjs-converter');

async function main() {
  const [modelJson, inputPath, dimsArg, outPath, ...names] = process.argv.slice(2);
  if (!outPath) {
    process.stderr.write('usage: reference.js MODEL_JSON INPUT_F32 DIMS OUT_F32 [OUTPUT...]\n');
    process.exit(2);
  }
  const mj = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  const dir = path.dirname(modelJson);
  const specs = [];
  const bufs = [];
  for (const group of mj.weightsManifest) {
    for (const p of group.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
    specs.push(...group.weights);
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const handler = {
    load: async () => ({
      modelTopology: mj.modelTopology,
      weightSpecs: specs,
      weightData,
      format: mj.format,
      generatedBy: mj.generatedBy,
      convertedBy: mj.convertedBy,
      signature: mj.signature,
      userDefinedMetadata: mj.userDefinedMetadata,
    }),
  };
  await tf.setBackend('cpu');
  const model = await tfc.loadGraphModel(handler);
  const dims = dimsArg.split(',').map(Number);
  const raw = fs.readFileSync(inputPath);
  const f32 = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  // An int32 input (MoveNet's pixels) gets the same integer values as int32, the way the
  // converted ONNX model casts its float32 input back to int32.
  const x = model.inputs[0].dtype === 'int32'
    ? tf.tensor(Int32Array.from(f32, Math.round), dims, 'int32')
    : tf.tensor(f32, dims, 'float32');
  let outNames = names;
  if (outNames.length === 0) {
    const sig = mj.signature || (mj.userDefinedMetadata || {}).signature;
    outNames = sig ? Object.keys(sig.outputs).map((k) => sig.outputs[k].name || k)
      : model.outputs.map((o) => o.name);
  }
  let outs = await model.executeAsync(x, outNames);
  if (!Array.isArray(outs)) outs = [outs];
  const meta = [];
  const chunks = [];
  for (let i = 0; i < outs.length; i++) {
    const data = await outs[i].data();
    chunks.push(Buffer.from(Float32Array.from(data).buffer));
    meta.push({ name: outNames[i], shape: outs[i].shape });
  }
  fs.writeFileSync(outPath, Buffer.concat(chunks));
  process.stdout.write(JSON.stringify({ outputs: meta }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`reference.js: ${e.stack || e}\n`);
  process.exit(1);
});
