#!/usr/bin/env node
// stream.js - an OpenAI-compatible upstream for the gateway's stream tests (no npm packages).
//
//   node stream.js --mode openai|nousage|negusage|flood [--bytes N]   prints "listening PORT"
//   node stream.js --print N      writes the bytes the flood mode streams for --bytes N
//
// POST /v1/chat/completions, per mode:
//   openai    like OpenAI: a stream carries a final usage event (empty "choices") only when the
//             body asks for it (stream_options.include_usage); a plain answer always has usage
//   nousage   never any usage
//   negusage  usage with prompt_tokens -100000000 (plain answers and every stream)
//   flood     streams --bytes bytes of SSE lines as fast as the reader takes them (it waits
//             for 'drain'), then [DONE]; every line numbered, so a lost or doubled byte shows
// GET /_last: the last chat request's body.
'use strict';
const http = require('http');

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf('--' + k); return i >= 0 ? args[i + 1] : d; };
const mode = opt('mode', 'openai');
let last = null;

// The flood: numbered lines of ~1 KiB until at least n bytes, then the end marker.
function* flood(n) {
  const pad = 'x'.repeat(1000);
  let sent = 0;
  const batch = [];
  for (let i = 0; sent < n; i++) {
    const line = 'data: ' + String(i).padStart(10, '0') + ' ' + pad + '\n\n';
    batch.push(line);
    sent += line.length;
    if (batch.length === 64) {
      yield batch.join('');
      batch.length = 0;
    }
  }
  batch.push('data: [DONE]\n\n');
  yield batch.join('');
}

if (opt('print', null) !== null) {
  const gen = flood(Number(opt('print')));
  const next = () => {
    for (let r = gen.next(); !r.done; r = gen.next())
      if (!process.stdout.write(r.value)) return process.stdout.once('drain', next);
  };
  next();
  return;
}

function readBody(req) {
  return new Promise((resolve) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
  });
}

function json(res, status, obj) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(obj));
}

async function completions(req, res) {
  let body;
  const text = await readBody(req);
  try { body = JSON.parse(text); } catch (e) { return json(res, 400, { error: { message: 'bad json' } }); }
  last = body;
  const usage = mode === 'negusage' ? { prompt_tokens: -100000000, completion_tokens: 5, total_tokens: -99999995 }
    : { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
  const withUsage = mode === 'negusage' || (mode === 'openai' &&
    (!body.stream || (body.stream_options && body.stream_options.include_usage === true)));
  if (!body.stream) {
    const answer = { id: 'chatcmpl-1', object: 'chat.completion', created: 0, model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'a plain answer of some length' }, finish_reason: 'stop' }] };
    if (withUsage) answer.usage = usage;
    return json(res, 200, answer);
  }
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  if (mode === 'flood') {
    const gen = flood(Number(opt('bytes', '1000000')));
    const next = () => {
      for (let r = gen.next(); !r.done; r = gen.next())
        if (!res.write(r.value)) return res.once('drain', next);
      res.end();
    };
    return next();
  }
  for (let i = 0; i < 3; i++) {
    const chunk = { id: 'chatcmpl-1', object: 'chat.completion.chunk', model: body.model,
      choices: [{ index: 0, delta: { content: 'streamed words ' + i + ' ' }, finish_reason: null }] };
    res.write('data: ' + JSON.stringify(chunk) + '\n\n');
    await new Promise((r) => setTimeout(r, 20));
  }
  if (withUsage)
    res.write('data: ' + JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: body.model, choices: [], usage }) + '\n\n');
  res.end('data: [DONE]\n\n');
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/v1/chat/completions') return completions(req, res);
  if (req.method === 'GET' && req.url === '/_last') return json(res, 200, last || {});
  json(res, 404, { error: { message: 'no such endpoint' } });
});
server.listen(Number(opt('port', '0')), '127.0.0.1', () => {
  console.log('listening ' + server.address().port);
});
