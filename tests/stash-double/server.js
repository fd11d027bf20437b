#!/usr/bin/env node
'use strict';
// server.js - the Stash double: an HTTP server that answers Stash's GraphQL API (a subset of the
// v0.30 schema, see schema.graphql) for aitag's end-to-end tests, plus a control API for tests.
//
// The GraphQL endpoint behaves like Stash's (gqlgen v0.17.73 behind Stash's auth middleware), as
// seen by a client: POST /graphql with Content-Type application/json; an ApiKey header or a
// `session` cookie, else HTTP 401 with an empty body; documents that do not parse or validate
// are answered with {"errors":[...],"data":null} and HTTP 422 (Accept absent or
// application/json) or 400 (Accept */* - libcurl's default - or
// application/graphql-response+json), extensions.code GRAPHQL_PARSE_FAILED or
// GRAPHQL_VALIDATION_FAILED; resolver errors come back with HTTP 200 next to partial data. The
// session cookie rolls like gorilla/sessions': every request authenticated by a cookie gets a
// Set-Cookie with a fresh one (--no-cookie-refresh turns that off), and a cookie older than
// --session-max-age is refused.
//
// Requests are handled one at a time to completion (all resolvers are synchronous), so the
// state a test reads after an answer is the state that answer saw.
//
// Performer images: GET /performer/ID/image (Stash's route; the image_path a Performer answers)
// serves the stored image, or a default picture when there is none or with ?default=true.
//
// Control API (no auth; for tests only), JSON in and out:
//   POST /__test/fault    {"status":503,"count":2} | {"delay_ms":1500} | {"drop":true}, with
//                         optional "count" (default 1), "after" (let this many matching requests
//                         through first), "match" (operation name or root field), "apply" (run
//                         the request, then answer with the fault: the change is made but the
//                         client does not learn it); an array queues several. DELETE clears.
//   GET  /__test/state    the whole state (tags by id and by name, markers under scenes)
//   POST /__test/seed     replace the state (the /__test/state shape, or names instead of ids)
//   POST /__test/session  {"cookie": value} of a fresh session; {"age": S} backdates it S seconds
//   GET  /__test/log      the GraphQL requests received; DELETE clears
//   GET  /__test/info     the options the double runs with
//   GET  /__test/jobs     the jobs queued by runPluginTask; DELETE clears (ids keep counting)
//
// UI double (ui.js), for the browser test of plugin/aitag.js: GET /scenes, /scenes/ID, /images,
// /images/ID answer HTML pages with the DOM of Stash's UI at those places (a session cookie is
// needed, as in Stash: without one they redirect to /login); GET /plugin/aitag/javascript and
// /plugin/aitag/css serve the plugin's UI files from --plugin-dir (default: the repository's
// plugin/ folder), as Stash serves an enabled plugin's ui.javascript and ui.css.

const http = require('http');
const crypto = require('crypto');
const os = require('os');
const path = require('path');
const { parse, validate, execute, getOperationAST, getVariableValues, GraphQLError } = require('graphql');
const { Store, UserError } = require('./store');
const { buildExecutableSchema, parseVersion } = require('./resolvers');
const ui = require('./ui');

// ---- command line

function usage(msg) {
  if (msg) process.stderr.write(`stash-double: ${msg}\n`);
  process.stderr.write(
    'usage: node server.js --state FILE [--port N] [--session-max-age S] [--api-key K]\n' +
      '                      [--version vX.Y.Z] [--no-auth] [--no-cookie-refresh] [--config-dir DIR]\n' +
      '                      [--plugin-dir DIR]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    state: null,
    port: 0,
    sessionMaxAge: 3600,
    apiKey: '',
    version: 'v0.30.1',
    noAuth: false,
    cookieRefresh: true,
    configDir: path.join(os.homedir(), '.stash'),
    pluginDir: path.join(__dirname, '..', '..', 'plugin'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    const num = () => {
      const v = val();
      if (!/^\d+$/.test(v)) usage(`${a} wants a non-negative integer, got "${v}"`);
      return Number(v);
    };
    switch (a) {
      case '--state': o.state = val(); break;
      case '--port': o.port = num(); break;
      case '--session-max-age': o.sessionMaxAge = num(); break;
      case '--api-key': o.apiKey = val(); break;
      case '--version': o.version = val(); break;
      case '--config-dir': o.configDir = val(); break;
      case '--plugin-dir': o.pluginDir = val(); break;
      case '--no-auth': o.noAuth = true; break;
      case '--no-cookie-refresh': o.cookieRefresh = false; break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument "${a}"`);
    }
  }
  if (!o.state) usage('--state FILE is required');
  try {
    parseVersion(o.version);
  } catch (e) {
    usage(e.message);
  }
  o.hash = crypto.createHash('sha1').update(o.version).digest('hex').slice(0, 8);
  o.buildTime = '2025-01-01 00:00:00';
  return o;
}

const opts = parseArgs(process.argv.slice(2));
let store;
try {
  store = new Store(opts.state);
} catch (e) {
  process.stderr.write(`stash-double: ${e.message}\n`);
  process.exit(1);
}
const schema = buildExecutableSchema(opts);

// ---- sessions: HMAC-signed "issued-at" cookies, like securecookie; they survive a restart
// because the key lives in the state file.

function sign(payload) {
  return crypto.createHmac('sha256', store.s.session_key).update(payload).digest('base64url');
}

function newCookie(age = 0) {
  const iat = Math.floor(Date.now() / 1000) - age;
  const payload = Buffer.from(`${iat}|${crypto.randomBytes(9).toString('hex')}`).toString('base64url');
  return `${payload}.${sign(payload)}`;
}

// 'ok', 'expired' or 'invalid'.
function checkCookie(value) {
  const [payload, mac] = String(value).split('.');
  if (!payload || !mac) return 'invalid';
  const want = Buffer.from(sign(payload));
  const got = Buffer.from(mac);
  if (want.length !== got.length || !crypto.timingSafeEqual(want, got)) return 'invalid';
  const iat = Number(Buffer.from(payload, 'base64url').toString().split('|')[0]);
  if (!Number.isFinite(iat)) return 'invalid';
  const nowS = Math.floor(Date.now() / 1000);
  if (opts.sessionMaxAge !== 0 && iat < nowS - opts.sessionMaxAge) return 'expired';
  return 'ok';
}

function cookieValue(req) {
  for (const part of String(req.headers.cookie || '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === 'session') return part.slice(eq + 1).trim();
  }
  return null;
}

// Stash's Authenticate: an ApiKey header (or ?apikey=) must match the configured key; otherwise
// the session cookie decides. Returns {auth: label for the log, ok}.
function authenticate(req, url) {
  const key = req.headers.apikey || url.searchParams.get('apikey') || '';
  if (key) {
    const ok = opts.apiKey !== '' && key === opts.apiKey;
    return { auth: ok ? 'apikey' : 'apikey-invalid', ok };
  }
  const c = cookieValue(req);
  if (c === null) return { auth: 'none', ok: opts.noAuth };
  const state = checkCookie(c);
  if (state === 'ok') return { auth: 'cookie', ok: true, refresh: opts.cookieRefresh };
  return { auth: `cookie-${state}`, ok: opts.noAuth };
}

// ---- faults and the request log

let faults = [];
let log = [];
let seq = 0;

// Jobs queued by runPluginTask, as Stash's job manager keeps them: in memory, ids from 1.
let jobs = [];
let lastJobId = 0;
const jobQueue = {
  add(job) {
    const id = String(++lastJobId);
    jobs.push({ id, at: new Date().toISOString(), status: 'READY', ...job });
    return id;
  },
};

function takeFault(info) {
  for (let i = 0; i < faults.length; i++) {
    const f = faults[i];
    if (f.match && f.match !== info.operation && !info.fields.includes(f.match)) continue;
    if (f.after > 0) {
      f.after--;
      continue;
    }
    if (--f.count <= 0) faults.splice(i, 1);
    return f;
  }
  return null;
}

function normaliseFault(f) {
  if (!f || typeof f !== 'object') throw new Error('a fault is a JSON object');
  const out = {
    status: f.status === undefined ? null : Number(f.status),
    delay_ms: Number(f.delay_ms || 0),
    drop: !!f.drop,
    apply: !!f.apply,
    count: f.count === undefined ? 1 : Number(f.count),
    after: Number(f.after || 0),
    match: f.match || null,
  };
  if (out.status !== null && !(out.status >= 400 && out.status <= 599)) throw new Error('status must be 4xx or 5xx');
  if (out.status === null && !out.drop && !out.delay_ms) throw new Error('a fault needs status, drop or delay_ms');
  if (!(out.count >= 1)) throw new Error('count must be >= 1');
  return out;
}

// Operation name (or first root field) and root fields of a request body, for the log.
function describe(body) {
  const info = { operation: null, fields: [], variables: null };
  if (!body || typeof body !== 'object') return info;
  info.variables = body.variables || null;
  try {
    const doc = parse(String(body.query || ''));
    const op = getOperationAST(doc, body.operationName || undefined);
    if (op) {
      info.fields = op.selectionSet.selections.filter((s) => s.kind === 'Field').map((s) => s.name.value);
      info.operation = op.name ? op.name.value : info.fields[0] || null;
      info.type = op.operation;
    }
  } catch (e) {
    /* an unparsable document is logged without names */
  }
  return info;
}

// ---- HTTP helpers

function sendJson(res, status, obj, contentType = 'application/json') {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// gqlgen's choice of response type, which also picks the status of protocol errors.
function responseType(req) {
  const accept = req.headers.accept;
  if (!accept) return 'application/json';
  for (const part of accept.split(',')) {
    const mt = part.split(';')[0].trim().toLowerCase();
    if (mt === '*/*' || mt === 'application/*' || mt === 'application/graphql-response+json')
      return 'application/graphql-response+json';
    if (mt === 'application/json') return 'application/json';
  }
  return 'application/graphql-response+json';
}

// ---- GraphQL

function protocolError(errors, code) {
  return errors.map((e) => {
    const j = { message: e.message };
    if (e.locations) j.locations = e.locations;
    j.extensions = { code };
    return j;
  });
}

// Returns {status, body, contentType}.
function runGraphql(req, raw) {
  const ctype = responseType(req);
  const protocolStatus = ctype === 'application/json' ? 422 : 400;
  let params;
  try {
    params = JSON.parse(raw);
    if (!params || typeof params !== 'object' || Array.isArray(params)) throw new Error('not an object');
  } catch (e) {
    return {
      status: 400,
      contentType: ctype,
      body: { errors: [{ message: `json request body could not be decoded: ${e.message} body:${raw}` }], data: null },
    };
  }
  let doc;
  try {
    doc = parse(String(params.query || ''));
  } catch (e) {
    return { status: protocolStatus, contentType: ctype, body: { errors: protocolError([e], 'GRAPHQL_PARSE_FAILED'), data: null } };
  }
  const verrs = validate(schema, doc);
  if (verrs.length)
    return { status: protocolStatus, contentType: ctype, body: { errors: protocolError(verrs, 'GRAPHQL_VALIDATION_FAILED'), data: null } };
  const op = getOperationAST(doc, params.operationName || undefined);
  if (!op) {
    const err = { message: `operation ${params.operationName || ''} not found` };
    return { status: protocolStatus, contentType: ctype, body: { errors: protocolError([err], 'GRAPHQL_VALIDATION_FAILED'), data: null } };
  }
  const vars = getVariableValues(schema, op.variableDefinitions || [], params.variables || {});
  if (vars.errors)
    return { status: protocolStatus, contentType: ctype, body: { errors: protocolError(vars.errors, 'GRAPHQL_VALIDATION_FAILED'), data: null } };
  const ctx = { store, jobs: jobQueue, baseUrl: `http://${req.headers.host || '127.0.0.1'}` };
  const result = execute({
    schema,
    document: doc,
    operationName: params.operationName || undefined,
    variableValues: params.variables || {},
    contextValue: ctx,
  });
  if (typeof result.then === 'function') throw new Error('stash-double: a resolver returned a promise');
  const body = {};
  if (result.errors) {
    body.errors = result.errors.map((e) => {
      const orig = e.originalError;
      if (orig && !(orig instanceof UserError) && !(orig instanceof GraphQLError)) {
        process.stderr.write(`stash-double: resolver failure: ${orig.stack}\n`);
      }
      return { message: e.message, path: e.path };
    });
  }
  body.data = result.data === undefined ? null : result.data;
  return { status: 200, contentType: ctype, body };
}

async function handleGraphql(req, res, url) {
  const raw = await readBody(req);
  let parsed = null;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    /* answered below */
  }
  const info = describe(parsed);
  const a = authenticate(req, url);
  const entry = {
    seq: ++seq,
    at: new Date().toISOString(),
    operation: info.operation,
    fields: info.fields,
    variables: info.variables,
    auth: a.auth,
    status: null,
    fault: null,
  };
  log.push(entry);

  const fault = takeFault(info);
  if (fault) {
    entry.fault = fault.drop ? 'drop' : fault.status !== null ? String(fault.status) : `delay ${fault.delay_ms}ms`;
    if (fault.delay_ms) await new Promise((r) => setTimeout(r, fault.delay_ms));
  }
  const failNow = fault && (fault.drop || fault.status !== null);
  if (failNow && !fault.apply) return answerFault(req, res, fault, entry);

  if (!a.ok) {
    entry.status = 401;
    res.writeHead(401, { 'WWW-Authenticate': 'FormBased', 'Content-Length': 0 });
    return res.end();
  }
  const mediaType = String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  let out;
  if (req.method !== 'POST' || mediaType !== 'application/json') {
    out = { status: 400, contentType: 'application/json', body: { errors: [{ message: 'transport not supported' }], data: null } };
  } else {
    out = runGraphql(req, raw);
  }
  if (failNow) return answerFault(req, res, fault, entry); // apply: the change is made, the answer lost
  entry.status = out.status;
  const headers = { 'Cache-Control': 'no-store' };
  if (a.refresh) {
    const age = opts.sessionMaxAge;
    const exp = new Date(Date.now() + age * 1000).toUTCString();
    headers['Set-Cookie'] = `session=${newCookie()}; Path=/; Expires=${exp}; Max-Age=${age}; SameSite=Lax`;
  }
  const body = JSON.stringify(out.body);
  res.writeHead(out.status, { ...headers, 'Content-Type': out.contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function answerFault(req, res, fault, entry) {
  if (fault.drop) {
    entry.status = 0;
    req.socket.destroy();
    return;
  }
  entry.status = fault.status;
  const body = `stash-double: injected HTTP ${fault.status}\n`;
  const headers = { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) };
  if (fault.status === 429 || fault.status === 503) headers['Retry-After'] = '1';
  res.writeHead(fault.status, headers);
  res.end(body);
}

// ---- UI double

const PLUGIN_FILES = {
  '/plugin/aitag/javascript': ['aitag.js', 'text/javascript'],
  '/plugin/aitag/css': ['aitag.css', 'text/css'],
};

// Answers a UI page or a plugin file; false when the path is neither.
function serveUi(req, res, url) {
  const send = (status, type, body, extra) => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...extra });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const file = PLUGIN_FILES[url.pathname];
  if (file) {
    let body;
    try {
      body = require('fs').readFileSync(path.join(opts.pluginDir, file[0]), 'utf8');
    } catch (e) {
      send(404, 'text/plain', `stash-double: ${e.message}\n`);
      return true;
    }
    send(200, file[1], body);
    return true;
  }
  const html = ui.page(url.pathname);
  if (html === null) return false;
  const a = authenticate(req, url);
  if (!a.ok) {
    // Stash sends a browser without a valid session to its login page.
    const to = `/login?returnURL=${encodeURIComponent(url.pathname + url.search)}`;
    send(302, 'text/plain', `login first: ${to}\n`, { Location: to });
    return true;
  }
  send(200, 'text/html; charset=utf-8', html);
  return true;
}

// ---- performer images (Stash's internal/api/routes_performer.go)

// Stash serves a built-in picture (chosen by gender) for a performer without an image, and
// always with ?default=true. The double's is a small SVG; tests only need it to be "not theirs".
const DEFAULT_PERFORMER_IMAGE =
  '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="300"><rect width="200" height="300" fill="#888"/></svg>\n';

// GET /performer/ID/image: the stored image with a sniffed type (as Go's http.DetectContentType
// does for the formats a client sends), behind the same auth as /graphql; 404 for an unknown id.
function servePerformerImage(req, res, url, m) {
  const a = authenticate(req, url);
  if (!a.ok) {
    res.writeHead(401, { 'WWW-Authenticate': 'FormBased', 'Content-Length': 0 });
    return res.end();
  }
  const p = /^\d+$/.test(m[1]) ? store.performer(String(Number(m[1]))) : null;
  if (!p) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 10 });
    return res.end('Not Found\n');
  }
  let body = null;
  if (url.searchParams.get('default') !== 'true' && p.image) body = Buffer.from(p.image, 'base64');
  if (!body || !body.length) body = Buffer.from(DEFAULT_PERFORMER_IMAGE);
  let type = 'image/svg+xml';
  if (body[0] === 0xff && body[1] === 0xd8 && body[2] === 0xff) type = 'image/jpeg';
  else if (body.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) type = 'image/png';
  else if (body.subarray(0, 4).toString() === 'RIFF' && body.subarray(8, 12).toString() === 'WEBP') type = 'image/webp';
  else if (body.subarray(0, 3).toString() === 'GIF') type = 'image/gif';
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

// ---- control API

async function handleControl(req, res, url) {
  const route = `${req.method} ${url.pathname}`;
  const body = async () => {
    const raw = await readBody(req);
    return raw.trim() ? JSON.parse(raw) : {};
  };
  try {
    switch (route) {
      case 'POST /__test/fault': {
        const b = await body();
        for (const f of Array.isArray(b) ? b : [b]) faults.push(normaliseFault(f));
        return sendJson(res, 200, { pending: faults });
      }
      case 'GET /__test/fault':
        return sendJson(res, 200, { pending: faults });
      case 'DELETE /__test/fault':
        faults = [];
        return sendJson(res, 200, { pending: faults });
      case 'GET /__test/state':
        return sendJson(res, 200, store.view());
      case 'POST /__test/seed':
        store.seed(await body());
        return sendJson(res, 200, store.view());
      case 'POST /__test/session': {
        const b = await body();
        return sendJson(res, 200, { cookie: newCookie(Number(b.age || 0)) });
      }
      case 'GET /__test/log':
        return sendJson(res, 200, log);
      case 'DELETE /__test/log':
        log = [];
        return sendJson(res, 200, log);
      case 'GET /__test/jobs':
        return sendJson(res, 200, jobs);
      case 'DELETE /__test/jobs':
        jobs = [];
        return sendJson(res, 200, jobs);
      case 'GET /__test/info':
        return sendJson(res, 200, {
          version: opts.version,
          session_max_age: opts.sessionMaxAge,
          api_key: opts.apiKey,
          no_auth: opts.noAuth,
          cookie_refresh: opts.cookieRefresh,
          state: path.resolve(opts.state),
          plugin_dir: path.resolve(opts.pluginDir),
        });
      default:
        return sendJson(res, 404, { error: `no control route ${route}` });
    }
  } catch (e) {
    return sendJson(res, 400, { error: e.message });
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const done = (p) =>
    p.catch((e) => {
      process.stderr.write(`stash-double: ${e.stack}\n`);
      if (!res.headersSent) sendJson(res, 500, { error: e.message });
      else res.destroy();
    });
  if (url.pathname === '/graphql') return done(handleGraphql(req, res, url));
  if (url.pathname.startsWith('/__test/')) return done(handleControl(req, res, url));
  if (req.method === 'GET' || req.method === 'HEAD') {
    const pm = /^\/performer\/([^/]+)\/image$/.exec(url.pathname);
    if (pm) return servePerformerImage(req, res, url, pm);
    if (serveUi(req, res, url)) return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 10 });
  res.end('not found\n');
});

server.listen(opts.port, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
server.on('error', (e) => {
  process.stderr.write(`stash-double: ${e.message}\n`);
  process.exit(1);
});

function shutdown() {
  server.close();
  if (server.closeAllConnections) server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
