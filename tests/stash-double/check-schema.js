#!/usr/bin/env node
'use strict';
// check-schema.js - compares the double's schema with Stash's real one, and optionally checks
// GraphQL documents against the real one. Not part of the test suite (Stash's schema files are
// not in this repository); run it by hand when moving to a new Stash version:
//
//   git clone --depth 1 --branch v0.30.1 https://github.com/stashapp/stash /tmp/stash
//   node tests/stash-double/check-schema.js /tmp/stash/graphql/schema --version v0.30.1 \
//        [--documents FILE.graphql ...]
//
// SCHEMA may be a directory (all *.graphql below it) or "-" for the concatenated SDL on stdin.
// Every type, field, argument, enum value and union member of schema.graphql (cut to --version)
// must exist in the real schema with the same type; required input fields of the real schema
// must be present. Exit status 1 on any mismatch.

const fs = require('fs');
const path = require('path');
const g = require('graphql');
const { schemaText } = require('./resolvers');

function readSdl(where) {
  if (where === '-') return fs.readFileSync(0, 'utf8');
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.graphql')) out.push(fs.readFileSync(p, 'utf8'));
    }
  };
  walk(where);
  return out.join('\n');
}

function compare(real, mine, report) {
  for (const t of Object.values(mine.getTypeMap())) {
    if (t.name.startsWith('__')) continue;
    const r = real.getType(t.name);
    if (!r) {
      report(`type ${t.name} does not exist in Stash`);
      continue;
    }
    if (r.constructor !== t.constructor) report(`${t.name} is a ${r.constructor.name} in Stash`);
    if (t.getFields && r.getFields) {
      const rf = r.getFields();
      for (const f of Object.values(t.getFields())) {
        const x = rf[f.name];
        if (!x) {
          report(`${t.name}.${f.name} does not exist in Stash`);
          continue;
        }
        if (String(x.type) !== String(f.type)) report(`${t.name}.${f.name} is ${x.type} in Stash, ${f.type} here`);
        for (const a of f.args || []) {
          const ra = (x.args || []).find((y) => y.name === a.name);
          if (!ra) report(`${t.name}.${f.name}(${a.name}) does not exist in Stash`);
          else if (String(ra.type) !== String(a.type)) report(`${t.name}.${f.name}(${a.name}) is ${ra.type} in Stash`);
        }
      }
      if (g.isInputObjectType(r))
        for (const f of Object.values(rf))
          if (g.isNonNullType(f.type) && f.defaultValue === undefined && !t.getFields()[f.name])
            report(`required input field ${t.name}.${f.name} is missing here`);
    }
    if (t.getValues && r.getValues) {
      const rv = r.getValues().map((v) => v.name).join(' ');
      const mv = t.getValues().map((v) => v.name).join(' ');
      if (rv !== mv) report(`enum ${t.name} is {${rv}} in Stash, {${mv}} here`);
    }
    if (g.isUnionType(t) && g.isUnionType(r)) {
      const rm = r.getTypes().map(String).sort().join(' ');
      const mm = t.getTypes().map(String).sort().join(' ');
      if (rm !== mm) report(`union ${t.name} is ${rm} in Stash, ${mm} here`);
    }
  }
}

function main(argv) {
  let where = null;
  let version = 'v0.30.1';
  const docs = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--version') version = argv[++i];
    else if (argv[i] === '--documents') docs.push(argv[++i]);
    else if (!where) where = argv[i];
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  if (!where) {
    process.stderr.write('usage: node check-schema.js STASH_SCHEMA_DIR|- [--version vX.Y.Z] [--documents FILE]...\n');
    return 2;
  }
  const real = g.buildSchema(readSdl(where), { assumeValidSDL: true });
  const mine = g.buildSchema(schemaText(version));
  let bad = 0;
  const report = (m) => {
    bad++;
    process.stdout.write(`${m}\n`);
  };
  compare(real, mine, report);
  for (const file of docs) {
    const doc = g.parse(fs.readFileSync(file, 'utf8'));
    for (const e of g.validate(real, doc)) report(`${file}: ${e.message}`);
    for (const e of g.validate(mine, doc)) report(`${file}: not served by the double: ${e.message}`);
  }
  process.stdout.write(`${bad ? 'MISMATCH' : 'ok'}: the double's schema (${version}) against ${where}${docs.length ? ` and ${docs.length} document file(s)` : ''}\n`);
  return bad ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
