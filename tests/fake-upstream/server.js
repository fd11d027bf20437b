#!/usr/bin/env node
// server.js - a small OpenAI-compatible upstream for the gateway tests (no npm packages).
//
//   node server.js --name A [--port 0] [--mode ok|500|429|slow|malformed|drop|badembed|
//                                              slowbody|streambreak] [--embed-map FILE]
//
// Prints "listening PORT" once ready. Endpoints:
//   POST /v1/chat/completions   answers per the current mode; {"stream":true} streams SSE
//                               chunks 100 ms apart, then a usage chunk and [DONE]
//   POST /v1/embeddings         one vector of 8 floats per input string, seeded by a hash of
//                               the text (same text, same vector), or the --embed-map file's
//                               vector for that text; usage.prompt_tokens = words
//   POST /v1/audio/transcriptions  parses the multipart body; answers {"text": ...} naming the
//                               model and the file's byte count (that text alone when
//                               response_format=text; OpenAI's verbose_json with segments and
//                               word times when asked); 400 when "file" or "model" is missing
//   GET  /v1/models
//   POST /_mode {"mode": "..."} changes the failure mode
//   GET  /_stats, /__test/stats: calls per endpoint, the last call of each, TCP connections
//                               accepted, and a log of the last 100 requests
// Failure modes: 500 and 429 (with Retry-After) answer at once; slow waits 3 s; malformed sends
// 200 with broken JSON; drop destroys the socket without answering; badembed answers
// embeddings 200 with a JSON object that has no "data"; slowbody sends a chat answer's headers
// and then its body in pieces over about 1.5 s; streambreak sends two stream chunks and then
// destroys the socket.
'use strict';
const http = require('http');

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf('--' + k); return i >= 0 ? args[i + 1] : d; };
const name = opt('name', 'fake');
let mode = opt('mode', 'ok');
// --embed-map FILE: a JSON object {text: vector}; those texts get that vector, as a text tower
// whose space matches stored image embeddings would give (other texts: the hashed vector)
const embedMap = opt('embed-map', null) ? JSON.parse(require('fs').readFileSync(opt('embed-map'), 'utf8')) : {};
let chat = 0;
let last = null;
let embeddings = 0, transcriptions = 0, connections = 0;
let lastEmbed = null, lastTranscription = null;
const log = [];

function readRaw(req) {
  return new Promise((resolve) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
  });
}

async function readBody(req) {
  return (await readRaw(req)).toString('utf8');
}

function json(res, status, obj, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(obj));
}

async function completions(req, res) {
  const text = await readBody(req);
  let body;
  try { body = JSON.parse(text); } catch (e) { return json(res, 400, { error: { message: 'bad json', type: 'invalid_request_error' } }); }
  chat++;
  last = { model: body.model, auth: req.headers.authorization || null, request_id: req.headers['x-request-id'] || null };
  if (mode === '500') return json(res, 500, { error: { message: name + ' is broken', type: 'server_error' } });
  if (mode === '429') return json(res, 429, { error: { message: 'slow down', type: 'rate_limit' } }, { 'Retry-After': '1' });
  if (mode === 'drop') return req.socket.destroy();
  if (mode === 'malformed') { res.writeHead(200, { 'Content-Type': 'application/json' }); return res.end('{"id": "x", "choices": [ {'); }
  if (mode === 'slow') await new Promise((r) => setTimeout(r, 3000));
  const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
  if (!body.stream) {
    const answer = {
      id: 'chatcmpl-' + chat, object: 'chat.completion', created: 0, model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'hello from ' + name }, finish_reason: 'stop' }],
      usage,
    };
    if (mode !== 'slowbody') return json(res, 200, answer);
    const text = JSON.stringify(answer);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    const step = Math.ceil(text.length / 5);
    for (let i = 0; i < text.length; i += step) {
      res.write(text.slice(i, i + step));
      await new Promise((r) => setTimeout(r, 300));
    }
    return res.end();
  }
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  const n = 5;
  for (let i = 0; i < n; i++) {
    const chunk = { id: 'chatcmpl-' + chat, object: 'chat.completion.chunk', model: body.model,
      choices: [{ index: 0, delta: { content: 'chunk' + i + ' ' }, finish_reason: null }] };
    res.write('data: ' + JSON.stringify(chunk) + '\n\n');
    await new Promise((r) => setTimeout(r, 100));
    if (mode === 'streambreak' && i === 1) return req.socket.destroy();
  }
  res.write('data: ' + JSON.stringify({ id: 'chatcmpl-' + chat, object: 'chat.completion.chunk', model: body.model, choices: [], usage }) + '\n\n');
  res.end('data: [DONE]\n\n');
}

// Deterministic pseudo-random vector: FNV-1a of the text seeds a small LCG.
function vector(text) {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  const v = [];
  for (let i = 0; i < 8; i++) {
    h = (Math.imul(h, 1664525) + 1013904223) >>> 0;
    v.push(Math.round((h / 0x100000000 * 2 - 1) * 1e6) / 1e6);
  }
  return v;
}

async function embed(req, res) {
  const text = await readBody(req);
  let body;
  try { body = JSON.parse(text); } catch (e) { return json(res, 400, { error: { message: 'bad json', type: 'invalid_request_error' } }); }
  embeddings++;
  lastEmbed = { model: body.model, auth: req.headers.authorization || null, request_id: req.headers['x-request-id'] || null, input: body.input };
  if (mode === '500') return json(res, 500, { error: { message: name + ' is broken', type: 'server_error' } });
  if (mode === 'drop') return req.socket.destroy();
  if (mode === 'malformed') { res.writeHead(200, { 'Content-Type': 'application/json' }); return res.end('{"object": "list", "data": ['); }
  if (mode === 'badembed') return json(res, 200, { object: 'list', model: body.model, error: null });
  const inputs = typeof body.input === 'string' ? [body.input] : body.input;
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((s) => typeof s === 'string'))
    return json(res, 400, { error: { message: "'input' must be a string or an array of strings", type: 'invalid_request_error', param: 'input' } });
  const words = inputs.reduce((n, s) => n + s.split(/\s+/).filter(Boolean).length, 0);
  json(res, 200, {
    object: 'list', model: body.model,
    data: inputs.map((s, i) => ({ object: 'embedding', index: i, embedding: embedMap[s] || vector(s) })),
    usage: { prompt_tokens: words, total_tokens: words },
  });
}

// multipart/form-data, parsed for real: [{name, filename, type, data: Buffer}].
function parseMultipart(buf, ctype) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(ctype || '');
  if (!m) return null;
  const delim = Buffer.from('--' + (m[1] || m[2]));
  const parts = [];
  let pos = buf.indexOf(delim);
  if (pos < 0) return null;
  for (;;) {
    pos += delim.length;
    if (buf.slice(pos, pos + 2).toString() === '--') return parts; // closing delimiter
    pos += 2; // CRLF after the delimiter
    const hend = buf.indexOf('\r\n\r\n', pos);
    if (hend < 0) return null;
    const head = buf.slice(pos, hend).toString('utf8');
    const next = buf.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), hend + 4);
    if (next < 0) return null;
    const disp = /content-disposition:[^\r\n]*/i.exec(head);
    const name = disp && /\bname="([^"]*)"/i.exec(disp[0]);
    const filename = disp && /\bfilename="([^"]*)"/i.exec(disp[0]);
    const type = /content-type:\s*([^\r\n]+)/i.exec(head);
    parts.push({ name: name ? name[1] : null, filename: filename ? filename[1] : null,
      type: type ? type[1].trim() : null, data: buf.slice(hend + 4, next) });
    pos = next + 2;
  }
}

async function transcribe(req, res) {
  const buf = await readRaw(req);
  const parts = parseMultipart(buf, req.headers['content-type']);
  transcriptions++;
  if (!parts) return json(res, 400, { error: { message: 'not a multipart body', type: 'invalid_request_error' } });
  const field = (n) => parts.find((p) => p.name === n);
  const file = field('file'), model = field('model');
  lastTranscription = {
    model: model ? model.data.toString() : null, auth: req.headers.authorization || null,
    request_id: req.headers['x-request-id'] || null, parts: parts.map((p) => p.name),
    file_name: file ? file.filename : null, file_type: file ? file.type : null,
    file_bytes: file ? file.data.length : null,
    file_sha256: file ? require('crypto').createHash('sha256').update(file.data).digest('hex') : null,
  };
  for (const p of parts) if (!['file', 'model'].includes(p.name)) lastTranscription[p.name] = p.data.toString();
  if (mode === '500') return json(res, 500, { error: { message: name + ' is broken', type: 'server_error' } });
  if (!file) return json(res, 400, { error: { message: "'file' is required", type: 'invalid_request_error', param: 'file' } });
  if (!model) return json(res, 400, { error: { message: "'model' is required", type: 'invalid_request_error', param: 'model' } });
  const text = 'heard ' + file.data.length + ' bytes with ' + model.data.toString() + ' at ' + name;
  const format = field('response_format') ? field('response_format').data.toString() : 'json';
  if (format === 'text') { res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }); return res.end(text + '\n'); }
  if (format === 'verbose_json') return json(res, 200, verbose(text, file.data));
  json(res, 200, { text });
}

// OpenAI's verbose_json answer: the language as a name, the audio's duration (read from a
// PCM WAV header, 0 for anything else), the words spread evenly over it when
// timestamp_granularities[] asked for words (the real API gives word times only then), and
// two segments as Whisper cuts longer audio: the first four words sure (avg_logprob -0.1), the
// rest less so (-0.7), so that each word's confidence must come from its own segment.
function verbose(text, wav) {
  let duration = 0;
  if (wav.length >= 44 && wav.toString('latin1', 0, 4) === 'RIFF' && wav.toString('latin1', 8, 12) === 'WAVE') {
    const rate = wav.readUInt32LE(24), bytesPerSample = wav.readUInt16LE(32);
    if (rate > 0 && bytesPerSample > 0) duration = wav.readUInt32LE(40) / (rate * bytesPerSample);
  }
  const words = text.split(' ');
  const t = (i) => Math.round((duration * i / words.length) * 1000) / 1000;
  const cut = Math.min(4, words.length);
  const segment = (id, from, to, logprob) => ({ id, seek: 0, start: t(from), end: t(to),
    text: words.slice(from, to).join(' '), tokens: [], temperature: 0, avg_logprob: logprob,
    compression_ratio: 1, no_speech_prob: 0.01 });
  const segments = [segment(0, 0, cut, -0.1)];
  if (cut < words.length) segments.push(segment(1, cut, words.length, -0.7));
  return {
    task: 'transcribe', language: 'english', duration, text, segments,
    words: words.map((w, i) => ({ word: w, start: t(i), end: t(i + 1) })),
  };
}

function stats() {
  return { name, mode, chat, last, embeddings, last_embedding: lastEmbed, transcriptions,
    last_transcription: lastTranscription, connections, requests: log };
}

const server = http.createServer(async (req, res) => {
  log.push({ method: req.method, url: req.url, request_id: req.headers['x-request-id'] || null,
    socket: req.socket.aitagId });
  if (log.length > 100) log.shift();
  try {
    if (req.method === 'POST' && req.url === '/v1/chat/completions') return await completions(req, res);
    if (req.method === 'POST' && req.url === '/v1/embeddings') return await embed(req, res);
    if (req.method === 'POST' && req.url === '/v1/audio/transcriptions') return await transcribe(req, res);
    if (req.method === 'GET' && req.url === '/v1/models') return json(res, 200, { object: 'list', data: [{ id: name + '-model', object: 'model' }] });
    if (req.method === 'POST' && req.url === '/_mode') { mode = JSON.parse(await readBody(req)).mode; return json(res, 200, { mode }); }
    if (req.method === 'GET' && (req.url === '/_stats' || req.url === '/__test/stats')) return json(res, 200, stats());
    json(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
  } catch (e) {
    json(res, 500, { error: { message: String(e), type: 'server_error' } });
  }
});
server.on('connection', (sock) => { sock.aitagId = ++connections; });
server.listen(Number(opt('port', '0')), '127.0.0.1', () => {
  process.stdout.write('listening ' + server.address().port + '\n');
});
process.on('SIGTERM', () => process.exit(0));
