#!/usr/bin/env node
// gateway_auth_clients.js - the hostile and the patient clients of the gateway_auth_*.sh tests
// (no npm packages). Each command prints one JSON line with what it saw.
//
//   hold PORT N SIZE raw|multipart [KEY]
//                                    N connections each declare a SIZE-byte body (with KEY:
//                                    keyed) and send all of it but the last 1 MiB; prints
//                                    {"held": N, "statuses": [...]} once sent, then keeps the
//                                    sockets open until killed
//   flood PORT N SIZE KEY            idle latency of a keyed GET /v1/models, then N clients
//                                    POST SIZE-byte JSON chats (many keys, no Authorization;
//                                    headers, then the body) while the keyed request is
//                                    timed again until they all have their answer; prints
//                                    {"idle_ms", "busy_ms", "first_ms": [...], "statuses": [...]}
//   raw PORT TEXT                    sends TEXT (JSON-string escapes) on one connection; prints
//                                    {"status", "code", "closed"} (the status line's code, the
//                                    JSON error code, whether the server closed within 2 s)
//   urls PORT N                      N GET requests to random unknown URLs, keep-alive
'use strict';
const http = require('http');
const net = require('net');

const [cmd, portArg, ...rest] = process.argv.slice(2);
const port = Number(portArg);
const now = () => Number(process.hrtime.bigint() / 1000n) / 1000; // ms
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// After the headers: wait for the first answer byte (or the socket's end), at most ms.
const answerOrTimeout = (s, ms) => new Promise((r) => {
  const t = setTimeout(r, ms);
  const done = () => { clearTimeout(t); r(); };
  s.once('data', done);
  s.once('close', done);
});

// POST body on a raw connection: the headers, then (after the first answer byte, or 1 s) the
// body in 1 MiB writes. Resolves
// to the answer's status and the time to its first byte (status 0: none came).
function rawPost(path, headers, body) {
  return new Promise((resolve) => {
    const t0 = now();
    const s = net.connect(port, '127.0.0.1');
    let first = null;
    let buf = '';
    const done = () => {
      const m = /^HTTP\/1\.1 (\d+)/.exec(buf);
      resolve({ status: m ? Number(m[1]) : 0, first_ms: first });
    };
    s.on('error', () => {});
    s.on('data', (d) => {
      if (first === null) first = now() - t0;
      buf += d.toString('latin1');
      if (/\r\n\r\n/.test(buf)) { s.destroy(); }
    });
    s.on('close', done);
    s.on('connect', async () => {
      const h = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      s.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${h}\r\n`);
      await answerOrTimeout(s, 1000);
      for (let off = 0; off < body.length && !s.destroyed; off += 1 << 20)
        if (!s.write(body.subarray(off, off + (1 << 20))))
          await new Promise((r) => { s.once('drain', r); s.once('close', r); });
    });
  });
}

function hold(n, size, kind, key) {
  const statuses = [];
  let sent = 0;
  const piece = Buffer.alloc(1 << 20, 'a');
  const boundary = 'xBOUNDARYx';
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.on('data', (d) => {
      const m = /^HTTP\/1\.1 (\d+)/.exec(d.toString('latin1'));
      if (m) statuses.push(Number(m[1]));
    });
    s.on('connect', async () => {
      const ctype = kind === 'multipart' ? `multipart/form-data; boundary=${boundary}` : 'application/octet-stream';
      const auth = key ? `Authorization: Bearer ${key}\r\n` : '';
      s.write(`POST /v1/tag HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: ${ctype}\r\nContent-Length: ${size}\r\n\r\n`);
      await answerOrTimeout(s, 1000); // an answer to the headers is read before writes fail
      if (kind === 'multipart')
        s.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n`);
      for (let left = size - (1 << 20) - 200; left > 0 && !s.destroyed; left -= piece.length) {
        const chunk = left >= piece.length ? piece : piece.subarray(0, left);
        if (!s.write(chunk)) await new Promise((r) => { s.once('drain', r); s.once('close', r); });
      }
      if (++sent === n) setTimeout(() => console.log(JSON.stringify({ held: n, statuses })), 500);
    });
  }
}

function request(opts) {
  return new Promise((resolve) => {
    const t0 = now();
    const req = http.request({ host: '127.0.0.1', port, agent: false, ...opts }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: now() - t0 }));
    });
    req.on('error', (e) => resolve({ status: 0, ms: now() - t0, error: e.code }));
    req.end();
  });
}

async function flood(n, size, key) {
  const keyed = () => request({ path: '/v1/models', headers: { Authorization: `Bearer ${key}` } });
  const idle = [];
  for (let i = 0; i < 5; i++) idle.push((await keyed()).ms);
  // {"model":"chat","k0":0,...}: a body whose parse costs time and memory
  const parts = ['{"model":"chat","messages":[{"role":"user","content":"hi"}]'];
  let len = parts[0].length + 1;
  for (let i = 0; len < size; i++) { const p = `,"k${i}":${i}`; parts.push(p); len += p.length; }
  parts.push('}');
  const body = Buffer.from(parts.join(''));
  const floods = [];
  for (let i = 0; i < n; i++)
    floods.push(rawPost('/v1/chat/completions', { 'Content-Type': 'application/json' }, body));
  let done = false;
  const all = Promise.all(floods).then((v) => { done = true; return v; });
  const busy = []; // the keyed request, again and again until every flood client has its answer
  while (!done || busy.length < 3) {
    await sleep(100);
    busy.push((await keyed()).ms);
  }
  const res = await all;
  idle.sort((a, b) => a - b);
  console.log(JSON.stringify({ idle_ms: idle[2], busy_ms: Math.max(...busy),
    first_ms: res.map((r) => r.first_ms), statuses: res.map((r) => r.status) }));
}

function raw(text) {
  const s = net.connect(port, '127.0.0.1');
  let buf = '';
  let closed = false;
  s.on('data', (d) => { buf += d.toString('latin1'); });
  s.on('error', () => {});
  s.on('close', () => { closed = true; });
  s.on('connect', () => s.write(Buffer.from(JSON.parse(`"${text}"`), 'latin1')));
  setTimeout(() => {
    const m = /^HTTP\/1\.1 (\d+)/.exec(buf);
    const c = /"code":"([^"]*)"/.exec(buf);
    console.log(JSON.stringify({ status: m ? Number(m[1]) : 0, code: c ? c[1] : null, closed }));
    s.destroy();
  }, 2000);
}

async function urls(n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const statuses = {};
  const one = (i) => new Promise((resolve) => {
    const junk = Math.random().toString(36).slice(2) + i;
    // percent escapes: the gateway sees the decoded bytes (a quote, CR, invalid UTF-8)
    const path = `/scan/${junk}/%22%0d%ff%c3%28/${i % 7 ? '' : '%5C'}`;
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
      res.resume();
      res.on('end', resolve);
    }).on('error', () => { statuses.error = (statuses.error || 0) + 1; resolve(); });
  });
  for (let i = 0; i < n; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 50); j++) batch.push(one(j));
    await Promise.all(batch);
  }
  agent.destroy();
  console.log(JSON.stringify(statuses));
}

if (cmd === 'hold') hold(Number(rest[0]), Number(rest[1]), rest[2], rest[3]);
else if (cmd === 'flood') flood(Number(rest[0]), Number(rest[1]), rest[2]);
else if (cmd === 'raw') raw(rest[0]);
else if (cmd === 'urls') urls(Number(rest[0]));
else { console.error('usage: gateway_auth_clients.js hold|flood|raw|urls PORT ...'); process.exit(2); }
