#!/usr/bin/env node
// server.js - a small OpenAI-compatible upstream for the gateway tests (no npm packages).
//
//   node server.js --name A [--port 0] [--mode ok|500|429|slow|malformed|drop]
//
// Prints "listening PORT" once ready. Endpoints:
//   POST /v1/chat/completions   answers per the current mode; {"stream":true} streams SSE
//                               chunks 100 ms apart, then a usage chunk and [DONE]
//   GET  /v1/models
//   POST /_mode {"mode": "..."} changes the failure mode; GET /_stats: {"chat": N, "last": {...}}
// Failure modes: 500 and 429 (with Retry-After) answer at once; slow waits 3 s; malformed sends
// 200 with broken JSON; drop destroys the socket without answering.
'use strict';
const http = require('http');

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf('--' + k); return i >= 0 ? args[i + 1] : d; };
const name = opt('name', 'fake');
let mode = opt('mode', 'ok');
let chat = 0;
let last = null;

function readBody(req) {
  return new Promise((resolve) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
  });
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
    return json(res, 200, {
      id: 'chatcmpl-' + chat, object: 'chat.completion', created: 0, model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'hello from ' + name }, finish_reason: 'stop' }],
      usage,
    });
  }
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  const n = 5;
  for (let i = 0; i < n; i++) {
    const chunk = { id: 'chatcmpl-' + chat, object: 'chat.completion.chunk', model: body.model,
      choices: [{ index: 0, delta: { content: 'chunk' + i + ' ' }, finish_reason: null }] };
    res.write('data: ' + JSON.stringify(chunk) + '\n\n');
    await new Promise((r) => setTimeout(r, 100));
  }
  res.write('data: ' + JSON.stringify({ id: 'chatcmpl-' + chat, object: 'chat.completion.chunk', model: body.model, choices: [], usage }) + '\n\n');
  res.end('data: [DONE]\n\n');
}

const server = http.createServer(async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/v1/chat/completions') return await completions(req, res);
    if (req.method === 'GET' && req.url === '/v1/models') return json(res, 200, { object: 'list', data: [{ id: name + '-model', object: 'model' }] });
    if (req.method === 'POST' && req.url === '/_mode') { mode = JSON.parse(await readBody(req)).mode; return json(res, 200, { mode }); }
    if (req.method === 'GET' && req.url === '/_stats') return json(res, 200, { name, mode, chat, last });
    json(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
  } catch (e) {
    json(res, 500, { error: { message: String(e), type: 'server_error' } });
  }
});
server.listen(Number(opt('port', '0')), '127.0.0.1', () => {
  process.stdout.write('listening ' + server.address().port + '\n');
});
process.on('SIGTERM', () => process.exit(0));
