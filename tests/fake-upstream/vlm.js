#!/usr/bin/env node
// vlm.js - a fake vision-language model behind an OpenAI-compatible /v1/chat/completions, for
// the vlm analyzer's tests (no npm packages).
//
//   node vlm.js --save DIR [--port 0] [--mode ok|fence|malformed|malformed:WxH|500]
//
// Prints "listening PORT" once ready. Each chat request is checked for real: model, temperature
// 0, response_format json_object, a system prompt listing the vocabulary after a "Tags:" line
// (ended by an empty line), and a user message with an image_url part holding a
// data:image/jpeg;base64 URL whose bytes start with SOI, end with EOI and carry a baseline or
// progressive SOF with the picture's size. A request that fails a check gets a 400 naming it.
// The JPEG is saved as DIR/NNNN_WxH.jpg and one line is appended to DIR/calls.jsonl.
// The answer, deterministic in the image bytes: the first vocabulary tag in upper case with
// confidence 0.9 (the analyzer must match case-insensitively), one more vocabulary tag chosen
// by the bytes' sha256 without a confidence, one tag that is NOT in the vocabulary, and a
// description when the system prompt asks for one. Modes: fence wraps the JSON in ``` fences;
// malformed answers prose instead of JSON (malformed:WxH only for pictures of that size); 500
// answers HTTP 500.
//   GET /_stats: {"calls": N, "bad": N, "last": {...}}
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf('--' + k); return i >= 0 ? args[i + 1] : d; };
const mode = opt('mode', 'ok');
const saveDir = opt('save', null);
if (!saveDir) { process.stderr.write('vlm.js: --save DIR is required\n'); process.exit(2); }
fs.mkdirSync(saveDir, { recursive: true });
let calls = 0, bad = 0, last = null;
const OUTSIDE = 'Sparkle Unicorn';

function json(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req) {
  return new Promise((resolve) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString()));
  });
}

// Width and height from the first SOF marker, or null.
function jpegSize(b) {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    const m = b[i + 1];
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01) { i += 2; continue; }
    const len = b.readUInt16BE(i + 2);
    if ((m >= 0xc0 && m <= 0xc3) || (m >= 0xc5 && m <= 0xc7) || (m >= 0xc9 && m <= 0xcb) || (m >= 0xcd && m <= 0xcf)) {
      if (i + 9 > b.length) return null;
      return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    }
    if (m === 0xda) return null; // scan before any SOF
    i += 2 + len;
  }
  return null;
}

function check(body) {
  if (typeof body.model !== 'string' || !body.model) return 'model is missing';
  if (body.temperature !== 0) return 'temperature is not 0';
  if (!body.response_format || body.response_format.type !== 'json_object') return 'response_format is not json_object';
  const msgs = body.messages;
  if (!Array.isArray(msgs) || msgs.length !== 2) return 'messages must be [system, user]';
  if (msgs[0].role !== 'system' || typeof msgs[0].content !== 'string') return 'messages[0] is not a system text';
  const m = /\nTags:\n([\s\S]*?)\n\n/.exec(msgs[0].content);
  if (!m) return 'the system prompt has no "Tags:" list';
  if (msgs[1].role !== 'user' || !Array.isArray(msgs[1].content)) return 'messages[1] is not a user content array';
  const img = msgs[1].content.find((p) => p.type === 'image_url');
  const url = img && img.image_url && img.image_url.url;
  const pre = 'data:image/jpeg;base64,';
  if (typeof url !== 'string' || !url.startsWith(pre)) return 'no image_url part with a data:image/jpeg;base64 URL';
  const jpeg = Buffer.from(url.slice(pre.length), 'base64');
  if (jpeg.toString('base64') !== url.slice(pre.length)) return 'the data URL is not canonical base64';
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return 'the image does not start with a JPEG SOI marker';
  if (jpeg[jpeg.length - 2] !== 0xff || jpeg[jpeg.length - 1] !== 0xd9) return 'the image does not end with a JPEG EOI marker';
  const size = jpegSize(jpeg);
  if (!size || !size.width || !size.height) return 'the JPEG has no SOF with a size';
  return { vocab: m[1].split('\n').filter((s) => s), jpeg, size, describe: /"description"/.test(msgs[0].content) };
}

async function completions(req, res) {
  let body;
  try { body = JSON.parse(await readBody(req)); } catch (e) { bad++; return json(res, 400, { error: { message: 'body is not JSON' } }); }
  const c = check(body);
  if (typeof c === 'string') { bad++; return json(res, 400, { error: { message: c, type: 'invalid_request_error' } }); }
  calls++;
  const { width, height } = c.size;
  const file = path.join(saveDir, String(calls).padStart(4, '0') + '_' + width + 'x' + height + '.jpg');
  fs.writeFileSync(file, c.jpeg);
  last = { model: body.model, width, height, bytes: c.jpeg.length, describe: c.describe, vocab: c.vocab,
    auth: req.headers.authorization || null, local_only: req.headers['x-aitag-local-only'] || null };
  fs.appendFileSync(path.join(saveDir, 'calls.jsonl'), JSON.stringify(Object.assign({ file }, last)) + '\n');
  if (mode === '500') return json(res, 500, { error: { message: 'the model fell over', type: 'server_error' } });
  const h = crypto.createHash('sha256').update(c.jpeg).digest();
  const tags = [{ name: c.vocab[0].toUpperCase(), confidence: 0.9 }];
  if (c.vocab.length > 1) tags.push({ name: c.vocab[1 + (h[0] % (c.vocab.length - 1))] });
  tags.push({ name: OUTSIDE, confidence: 0.99 });
  const answer = { tags };
  if (c.describe) answer.description = 'A ' + width + 'x' + height + ' picture (' + c.jpeg.length + ' bytes).';
  let content = JSON.stringify(answer);
  if (mode === 'fence') content = '```json\n' + content + '\n```';
  if (mode === 'malformed' || mode === 'malformed:' + width + 'x' + height) content = 'Sure! The picture shows: ' + tags.map((t) => t.name).join(', ');
  json(res, 200, { id: 'chatcmpl-' + calls, object: 'chat.completion', model: body.model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } });
}

const server = http.createServer(async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/v1/chat/completions') return await completions(req, res);
    if (req.method === 'GET' && req.url === '/v1/models') return json(res, 200, { object: 'list', data: [{ id: 'fake-vlm', object: 'model' }] });
    if (req.method === 'GET' && req.url === '/_stats') return json(res, 200, { calls, bad, last });
    json(res, 404, { error: { message: 'not found' } });
  } catch (e) {
    json(res, 500, { error: { message: String(e), type: 'server_error' } });
  }
});
server.listen(Number(opt('port', '0')), '127.0.0.1', () => {
  process.stdout.write('listening ' + server.address().port + '\n');
});
process.on('SIGTERM', () => process.exit(0));
