'use strict';
// store.js - the Stash double's data and query semantics.
//
// State is one JSON document (scenes, images, tags, markers, performers, plugin settings) kept in
// memory and written atomically (temp file + fsync + rename) after every change, so killing the double at
// any moment leaves either the old or the new state on disk and a restart picks it up: that is
// how tests simulate "Stash killed mid-run". Ids are strings of integers handed out in order.
//
// The query helpers reproduce the Stash (v0.30, SQLite) behaviours a client can trip over, not
// just the happy path: StringCriterionInput EQUALS is SQL LIKE (ASCII case-insensitive, `_` and
// `%` wildcards, no escape), tag-name uniqueness is checked with that same LIKE against names and
// aliases, hierarchical tag criteria follow parent links to `depth`, results are counted before
// paging and re-evaluated on every call (so removing a tag while paging by page number shifts
// later pages). Each mutation runs on a copy of the state and is only kept when it succeeds, as
// Stash runs each mutation in one transaction.

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

// An error a resolver reports to the client (HTTP 200, {"errors":[{"message":...}]}).
class UserError extends Error {}

// ---- SQLite semantics -----------------------------------------------------------------------

// SQLite's built-in LIKE: `%` any run, `_` exactly one character, ASCII letters case-insensitive,
// every other character (including non-ASCII letters) compared exactly. No ESCAPE character.
function likeMatch(value, pattern) {
  if (value === null || value === undefined) return null; // NULL LIKE x is NULL
  const s = Array.from(String(value));
  const p = Array.from(String(pattern));
  const fold = (c) => (c.length === 1 && c >= 'A' && c <= 'Z' ? c.toLowerCase() : c);
  // Iterative matcher with backtracking to the last `%`.
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < p.length && p[pi] === '%') {
      starP = pi++;
      starS = si;
    } else if (pi < p.length && (p[pi] === '_' || fold(p[pi]) === fold(s[si]))) {
      pi++;
      si++;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '%') pi++;
  return pi === p.length;
}

// Stash's NATURAL_CI collation: case-insensitive, digit runs compared by value.
function naturalCompare(a, b) {
  const x = a === null || a === undefined ? '' : String(a).toLowerCase();
  const y = b === null || b === undefined ? '' : String(b).toLowerCase();
  const re = /(\d+|\D+)/g;
  const xs = x.match(re) || [];
  const ys = y.match(re) || [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const dx = /^\d/.test(xs[i]);
    const dy = /^\d/.test(ys[i]);
    if (dx && dy) {
      const d = Number(xs[i]) - Number(ys[i]);
      if (d !== 0) return d;
    } else if (xs[i] !== ys[i]) {
      return xs[i] < ys[i] ? -1 : 1;
    }
  }
  return xs.length - ys.length;
}

// Stash's free-text search (FindFilterType.q and INCLUDES): any word matches `%word%`;
// a query in double quotes matches as one phrase.
function searchWords(q) {
  const t = String(q).trim();
  const unq = t.replace(/^"+|"+$/g, '');
  if (unq !== t) return [unq];
  return t.replace(/\s+/g, ' ').split(' ');
}

function stringPredicate(c) {
  const v = c.value;
  switch (c.modifier) {
    case 'EQUALS':
      return (x) => likeMatch(x, v) === true;
    case 'NOT_EQUALS':
      return (x) => likeMatch(x, v) === false;
    case 'INCLUDES': {
      const words = searchWords(v);
      return (x) => words.some((w) => likeMatch(x, `%${w}%`) === true);
    }
    case 'EXCLUDES': {
      const words = searchWords(v);
      return (x) => words.every((w) => likeMatch(x, `%${w}%`) === false);
    }
    case 'MATCHES_REGEX':
    case 'NOT_MATCHES_REGEX': {
      let re;
      try {
        re = new RegExp(v);
      } catch (e) {
        throw new UserError(`error parsing regexp: ${e.message}`);
      }
      return c.modifier === 'MATCHES_REGEX'
        ? (x) => x !== null && x !== undefined && re.test(x)
        : (x) => x === null || x === undefined || !re.test(x);
    }
    case 'IS_NULL':
      return (x) => x === null || x === undefined || String(x).trim() === '';
    case 'NOT_NULL':
      return (x) => x !== null && x !== undefined && String(x).trim() !== '';
    default:
      // Stash panics on these and its recover handler answers this message.
      throw new UserError('internal system error');
  }
}

// A string column reached through a LEFT JOIN (file paths, tag aliases): the row matches when
// any joined value does; no joined value behaves like one NULL.
function anyOf(values, pred) {
  const vs = values.length ? values : [null];
  return vs.some(pred);
}

function intPredicate(c) {
  const a = c.value;
  const b = c.value2 === undefined ? null : c.value2;
  switch (c.modifier) {
    case 'EQUALS':
      return (x) => x === a;
    case 'NOT_EQUALS':
      return (x) => x !== a;
    case 'GREATER_THAN':
      return (x) => x !== null && x > a;
    case 'LESS_THAN':
      return (x) => x !== null && x < a;
    case 'IS_NULL':
      return (x) => x === null;
    case 'NOT_NULL':
      return (x) => x !== null;
    case 'BETWEEN':
      return (x) => x !== null && b !== null && x >= a && x <= b;
    case 'NOT_BETWEEN':
      return (x) => x !== null && b !== null && (x < a || x > b);
    default:
      throw new UserError('internal system error');
  }
}

function parseIntId(id, what) {
  const s = String(id);
  if (!/^-?\d+$/.test(s)) throw new UserError(`${what}: strconv.Atoi: parsing "${s}": invalid syntax`);
  return String(Number(s));
}

// ---- the store ------------------------------------------------------------------------------

const KINDS = ['scene', 'image', 'tag', 'marker', 'file', 'performer'];

function emptyState() {
  return {
    next_id: Object.fromEntries(KINDS.map((k) => [k, 1])),
    session_key: crypto.randomBytes(32).toString('hex'),
    tags: [],
    scenes: [],
    images: [],
    markers: [],
    performers: [],
    plugins: {},
    stashes: [],
  };
}

function now() {
  return new Date().toISOString();
}

class Store {
  constructor(file) {
    this.file = file;
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (text.trim()) {
      try {
        this.s = JSON.parse(text);
      } catch (e) {
        throw new Error(`cannot read the state file ${file}: ${e.message}`);
      }
      const e = emptyState();
      for (const k of Object.keys(e)) if (this.s[k] === undefined) this.s[k] = e[k];
      for (const k of KINDS) if (this.s.next_id[k] === undefined) this.s.next_id[k] = 1;
      for (const x of [...this.s.scenes, ...this.s.images]) if (!x.performer_ids) x.performer_ids = [];
    } else {
      this.s = emptyState();
      this.save();
    }
  }

  save() {
    const dir = path.dirname(path.resolve(this.file));
    const tmp = path.join(dir, `.${path.basename(this.file)}.${process.pid}.tmp`);
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, JSON.stringify(this.s, null, 1) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
  }

  // Runs fn on a copy of the state; keeps the copy (and writes it) only if fn succeeds.
  transaction(fn) {
    const saved = this.s;
    this.s = structuredClone(saved);
    try {
      const r = fn();
      this.save();
      return r;
    } catch (e) {
      this.s = saved;
      throw e;
    }
  }

  newId(kind) {
    const id = this.s.next_id[kind]++;
    return String(id);
  }

  // ---- lookups
  tag(id) {
    return this.s.tags.find((t) => t.id === String(id)) || null;
  }
  scene(id) {
    return this.s.scenes.find((x) => x.id === String(id)) || null;
  }
  image(id) {
    return this.s.images.find((x) => x.id === String(id)) || null;
  }
  marker(id) {
    return this.s.markers.find((x) => x.id === String(id)) || null;
  }
  performer(id) {
    return this.s.performers.find((x) => x.id === String(id)) || null;
  }
  performersByIds(ids) {
    return ids.map((id) => this.performer(id)).filter(Boolean);
  }
  // Scenes or images ('scenes' | 'images') a performer appears in.
  performerItems(p, table) {
    return this.s[table].filter((x) => x.performer_ids.includes(p.id));
  }
  sceneMarkers(sceneId) {
    return this.s.markers
      .filter((m) => m.scene_id === sceneId)
      .sort((a, b) => a.seconds - b.seconds || Number(a.id) - Number(b.id));
  }
  tagChildren(id) {
    return this.s.tags.filter((t) => t.parent_ids.includes(id));
  }
  tagsByIds(ids) {
    return ids.map((id) => this.tag(id)).filter(Boolean);
  }

  // Tag ids reachable from `id` by following child links up to `depth` levels
  // (0 or null: the tag itself; -1: all descendants).
  descend(id, depth) {
    const out = new Set([String(id)]);
    let frontier = [String(id)];
    let level = 0;
    const limit = depth === null || depth === undefined ? 0 : depth;
    while (frontier.length && (limit < 0 || level < limit)) {
      const next = [];
      for (const f of frontier)
        for (const c of this.tagChildren(f))
          if (!out.has(c.id)) {
            out.add(c.id);
            next.push(c.id);
          }
      frontier = next;
      level++;
    }
    return out;
  }

  // HierarchicalMultiCriterionInput against a set of tag ids, as Stash's SQL does it.
  hierarchicalPredicate(c) {
    let modifier = c.modifier;
    let value = (c.value || []).map((v) => parseIntId(v, 'converting ids'));
    let excludes = (c.excludes || []).map((v) => parseIntId(v, 'converting ids'));
    const depth = c.depth === undefined ? null : c.depth;
    if (modifier === 'EQUALS' && depth !== null && depth !== 0)
      throw new UserError('depth is not supported for equals modifier in hierarchical multi criterion input');
    if (modifier === 'IS_NULL') return (ids) => ids.length === 0;
    if (modifier === 'NOT_NULL') return (ids) => ids.length > 0;
    if (modifier === 'EXCLUDES') {
      modifier = 'INCLUDES_ALL';
      excludes = excludes.concat(value);
      value = [];
    }
    if (!['INCLUDES', 'INCLUDES_ALL', 'EQUALS'].includes(modifier))
      throw new UserError('internal system error');
    if (value.length === 0 && excludes.length === 0) return () => true;
    const roots = [...new Set(value)].map((v) => this.descend(v, depth));
    const excluded = new Set();
    for (const e of excludes) for (const d of this.descend(e, depth)) excluded.add(d);
    return (ids) => {
      if (ids.some((i) => excluded.has(i))) return false;
      if (!roots.length) return true;
      const hit = roots.filter((r) => ids.some((i) => r.has(i))).length;
      if (modifier === 'INCLUDES') return hit > 0;
      if (modifier === 'INCLUDES_ALL') return hit === roots.length;
      return hit === roots.length && ids.length === value.length; // EQUALS
    };
  }

  // ---- filters (each returns a predicate on a stored record)

  combine(own, f, build) {
    const subs = ['AND', 'OR', 'NOT'].filter((k) => f[k] !== undefined && f[k] !== null);
    if (subs.length > 1) throw new UserError(`cannot have ${subs[0]} and ${subs[1]} in the same filter`);
    const ownP = (x) => own.every((p) => p(x));
    if (!subs.length) return ownP;
    const sub = build(f[subs[0]]);
    if (subs[0] === 'AND') return (x) => ownP(x) && sub(x);
    if (subs[0] === 'NOT') return (x) => ownP(x) && !sub(x);
    return own.length ? (x) => ownP(x) || sub(x) : sub;
  }

  mediaFilter(f, kind) {
    if (!f) return () => true;
    const own = [];
    if (f.id) {
      const p = intPredicate(f.id);
      own.push((x) => p(Number(x.id)));
    }
    if (f.title) {
      const p = stringPredicate(f.title);
      own.push((x) => p(x.title));
    }
    if (f.details) {
      const p = stringPredicate(f.details);
      own.push((x) => p(x.details));
    }
    if (f.path) {
      const p = stringPredicate(f.path);
      own.push((x) => anyOf(x.files.map((fl) => fl.path), p));
    }
    if (f.file_count) {
      const p = intPredicate(f.file_count);
      own.push((x) => p(x.files.length));
    }
    if (f.organized !== undefined && f.organized !== null) own.push((x) => x.organized === f.organized);
    if (kind === 'scene' && f.has_markers !== undefined && f.has_markers !== null) {
      const want = f.has_markers === 'true';
      own.push((x) => this.s.markers.some((m) => m.scene_id === x.id) === want);
    }
    if (f.tags) {
      const p = this.hierarchicalPredicate(f.tags);
      own.push((x) => p(x.tag_ids));
    }
    if (f.tag_count) {
      const p = intPredicate(f.tag_count);
      own.push((x) => p(x.tag_ids.length));
    }
    return this.combine(own, f, (sub) => this.mediaFilter(sub, kind));
  }

  tagFilter(f) {
    if (!f) return () => true;
    const own = [];
    if (f.name) {
      const p = stringPredicate(f.name);
      own.push((t) => p(t.name));
    }
    if (f.sort_name) {
      const p = stringPredicate(f.sort_name);
      own.push((t) => p(t.sort_name));
    }
    if (f.aliases) {
      if (f.aliases.modifier === 'EXCLUDES') {
        const v = f.aliases.value;
        own.push((t) => !t.aliases.some((a) => likeMatch(a, `%${v}%`)));
      } else {
        const p = stringPredicate(f.aliases);
        own.push((t) => anyOf(t.aliases, p));
      }
    }
    if (f.description) {
      const p = stringPredicate(f.description);
      own.push((t) => p(t.description));
    }
    if (f.favorite !== undefined && f.favorite !== null) own.push((t) => t.favorite === f.favorite);
    if (f.ignore_auto_tag !== undefined && f.ignore_auto_tag !== null)
      own.push((t) => t.ignore_auto_tag === f.ignore_auto_tag);
    const counted = [
      ['scene_count', (t) => this.s.scenes.filter((x) => x.tag_ids.includes(t.id)).length],
      ['image_count', (t) => this.s.images.filter((x) => x.tag_ids.includes(t.id)).length],
      ['marker_count', (t) => this.markerCount(t.id, 0)],
      ['parent_count', (t) => t.parent_ids.length],
      ['child_count', (t) => this.tagChildren(t.id).length],
    ];
    for (const [k, fn] of counted)
      if (f[k]) {
        const p = intPredicate(f[k]);
        own.push((t) => p(fn(t)));
      }
    if (f.parents) {
      const p = this.hierarchicalPredicate(f.parents);
      own.push((t) => p(t.parent_ids));
    }
    if (f.children) {
      const p = this.hierarchicalPredicate(f.children);
      own.push((t) => p(this.tagChildren(t.id).map((c) => c.id)));
    }
    return this.combine(own, f, (sub) => this.tagFilter(sub));
  }

  // PerformerFilterType as Stash's performerFilterHandler runs it (the criteria the double has).
  performerFilter(f) {
    if (!f) return () => true;
    const own = [];
    for (const k of ['name', 'disambiguation', 'details']) {
      if (!f[k]) continue;
      const p = stringPredicate(f[k]);
      own.push((x) => p(x[k]));
    }
    if (f.aliases) {
      const p = stringPredicate(f.aliases);
      own.push((x) => anyOf(x.alias_list, p));
    }
    if (f.is_missing !== undefined && f.is_missing !== null && f.is_missing !== '') {
      const m = f.is_missing;
      if (m === 'image') own.push((x) => !x.image);
      else if (m === 'aliases') own.push((x) => x.alias_list.length === 0);
      else if (m === 'scenes') own.push((x) => this.performerItems(x, 'scenes').length === 0);
      else if (m === 'stash_id') own.push(() => true); // the double keeps no stash ids
      else if (m === 'url') own.push((x) => x.urls.length === 0);
      else if (['disambiguation', 'details'].includes(m))
        own.push((x) => x[m] === null || x[m] === undefined || String(x[m]).trim() === '');
      else throw new UserError(`no such column: performers.${m}`);
    }
    const counted = [
      ['tag_count', (x) => x.tag_ids.length],
      ['scene_count', (x) => this.performerItems(x, 'scenes').length],
      ['image_count', (x) => this.performerItems(x, 'images').length],
    ];
    for (const [k, fn] of counted)
      if (f[k]) {
        const p = intPredicate(f[k]);
        own.push((x) => p(fn(x)));
      }
    if (f.ignore_auto_tag !== undefined && f.ignore_auto_tag !== null)
      own.push((x) => x.ignore_auto_tag === f.ignore_auto_tag);
    return this.combine(own, f, (sub) => this.performerFilter(sub));
  }

  markerFilter(f) {
    if (!f) return () => true;
    const own = [];
    if (f.tags) {
      const p = this.hierarchicalPredicate(f.tags);
      own.push((m) => p([m.primary_tag_id, ...m.tag_ids]));
    }
    if (f.scene_tags) {
      const p = this.hierarchicalPredicate(f.scene_tags);
      own.push((m) => p((this.scene(m.scene_id) || { tag_ids: [] }).tag_ids));
    }
    if (f.scenes) {
      const vals = (f.scenes.value || []).map((v) => parseIntId(v, 'converting ids'));
      const exc = (f.scenes.excludes || []).map((v) => parseIntId(v, 'converting ids'));
      const m = f.scenes.modifier;
      let p;
      if (m === 'INCLUDES') p = (x) => vals.includes(x.scene_id);
      else if (m === 'INCLUDES_ALL' || m === 'EQUALS') p = (x) => vals.every((v) => v === x.scene_id);
      else if (m === 'EXCLUDES') p = (x) => !vals.includes(x.scene_id);
      else if (m === 'IS_NULL') p = () => false;
      else if (m === 'NOT_NULL') p = () => true;
      else throw new UserError('internal system error');
      own.push((x) => p(x) && !exc.includes(x.scene_id));
    }
    return (x) => own.every((p) => p(x));
  }

  markerCount(tagId, depth) {
    const ids = this.descend(tagId, depth);
    return this.s.markers.filter((m) => ids.has(m.primary_tag_id) || m.tag_ids.some((t) => ids.has(t)))
      .length;
  }

  // ---- sorting and paging

  static sortOptions = {
    scene: ['bitrate', 'created_at', 'code', 'date', 'file_count', 'filesize', 'duration', 'file_mod_time',
      'framerate', 'group_scene_number', 'id', 'interactive', 'interactive_speed', 'last_o_at',
      'last_played_at', 'movie_scene_number', 'o_counter', 'organized', 'performer_count', 'play_count',
      'play_duration', 'resume_time', 'path', 'perceptual_similarity', 'random', 'rating', 'studio',
      'tag_count', 'title', 'updated_at', 'performer_age'],
    image: ['created_at', 'date', 'file_count', 'file_mod_time', 'filesize', 'id', 'o_counter', 'path',
      'performer_count', 'random', 'rating', 'tag_count', 'title', 'updated_at'],
    tag: ['created_at', 'galleries_count', 'groups_count', 'id', 'images_count', 'movies_count',
      'studios_count', 'name', 'performers_count', 'random', 'scene_markers_count', 'scenes_count',
      'scenes_duration', 'updated_at'],
    marker: ['created_at', 'id', 'title', 'random', 'scene_id', 'scenes_updated_at', 'seconds',
      'updated_at', 'duration'],
    performer: ['birthdate', 'career_length', 'created_at', 'galleries_count', 'height', 'id',
      'images_count', 'last_o_at', 'last_played_at', 'measurements', 'name', 'o_counter', 'penis_length',
      'play_count', 'random', 'rating', 'scenes_count', 'scenes_duration', 'tag_count', 'updated_at', 'weight'],
  };

  sortKey(kind, sort, x) {
    const first = (x.files && x.files[0]) || null;
    switch (sort) {
      case 'id':
      case 'scene_id':
        return Number(sort === 'id' ? x.id : x.scene_id);
      case 'created_at':
      case 'updated_at':
      case 'date':
        return x[sort] || '';
      case 'seconds':
        return x.seconds;
      case 'duration':
        return kind === 'marker' ? (x.end_seconds ?? NaN) - x.seconds : first ? first.duration : 0;
      case 'tag_count':
        return x.tag_ids.length;
      case 'file_count':
        return x.files.length;
      case 'filesize':
        return first ? first.size : 0;
      case 'rating':
        return x.rating100 ?? -1;
      case 'organized':
        return x.organized ? 1 : 0;
      case 'path':
        return { nat: first ? first.path : '' };
      case 'title':
        if (kind === 'marker') return { nat: x.title || (this.tag(x.primary_tag_id) || {}).name };
        return { nat: x.title || (first ? path.basename(first.path) : '') };
      case 'name':
        return { nat: x.sort_name || x.name };
      case 'scenes_count':
        if (kind === 'performer') return this.performerItems(x, 'scenes').length;
        return this.s.scenes.filter((s) => s.tag_ids.includes(x.id)).length;
      case 'images_count':
        if (kind === 'performer') return this.performerItems(x, 'images').length;
        return this.s.images.filter((s) => s.tag_ids.includes(x.id)).length;
      case 'scene_markers_count':
        return this.markerCount(x.id, 0);
      case 'random':
        return Math.random();
      default:
        throw new UserError(`stash-double: sort "${sort}" is valid in Stash but not implemented by the double`);
    }
  }

  // Filters, sorts and pages `items` like Stash's FindFilterType handling.
  page(kind, items, ff, search) {
    ff = ff || {};
    let list = items;
    if (ff.q !== undefined && ff.q !== null && ff.q !== '') {
      const words = searchWords(ff.q);
      list = list.filter((x) => words.some((w) => search(x).some((col) => likeMatch(col, `%${w}%`) === true)));
    }
    const defaultSort = kind === 'tag' || kind === 'performer' ? 'name' : null;
    const sort = ff.sort ? ff.sort : defaultSort;
    const dir = ff.direction === 'DESC' ? -1 : 1;
    const byId = (a, b) => Number(a.id) - Number(b.id);
    list = list.slice().sort(byId); // without a sort Stash's SQL returns rows in id order
    if (sort) {
      if (!Store.sortOptions[kind].includes(sort)) throw new UserError(`invalid sort: ${sort}`);
      const keys = new Map(list.map((x) => [x, this.sortKey(kind, sort, x)]));
      list.sort((a, b) => {
        const ka = keys.get(a);
        const kb = keys.get(b);
        let d;
        if (ka && typeof ka === 'object') d = naturalCompare(ka.nat, kb.nat);
        else d = ka < kb ? -1 : ka > kb ? 1 : 0;
        return d * dir || byId(a, b);
      });
    }
    const count = list.length;
    const perPage = ff.per_page === undefined || ff.per_page === null ? 25 : ff.per_page;
    const pageNo = !ff.page || ff.page < 1 ? 1 : ff.page;
    if (perPage >= 0) list = list.slice((pageNo - 1) * perPage, pageNo * perPage);
    return { count, items: list };
  }

  // ---- queries

  findScenes(filter, ids, ff) {
    const p = this.mediaFilter(filter, 'scene');
    let items = this.s.scenes.filter(p);
    if (ids) items = items.filter((x) => ids.includes(x.id));
    return this.page('scene', items, ff, (x) => [
      x.title, x.details, ...x.files.map((f) => f.path), ...x.files.flatMap((f) => Object.values(f.fingerprints || {})),
      ...this.sceneMarkers(x.id).map((m) => m.title),
    ]);
  }

  findImages(filter, ids, ff) {
    const p = this.mediaFilter(filter, 'image');
    let items = this.s.images.filter(p);
    if (ids) items = items.filter((x) => ids.includes(x.id));
    return this.page('image', items, ff, (x) => [
      x.title, ...x.files.map((f) => f.path), ...x.files.flatMap((f) => Object.values(f.fingerprints || {})),
    ]);
  }

  findTags(filter, ids, ff) {
    const p = this.tagFilter(filter);
    let items = this.s.tags.filter(p);
    if (ids) items = items.filter((x) => ids.includes(x.id));
    return this.page('tag', items, ff, (t) => [t.name, t.sort_name, ...t.aliases]);
  }

  findPerformers(filter, ids, ff) {
    const p = this.performerFilter(filter);
    let items = this.s.performers.filter(p);
    if (ids) items = items.filter((x) => ids.includes(x.id));
    return this.page('performer', items, ff, (x) => [x.name, x.disambiguation, ...x.alias_list]);
  }

  findMarkers(filter, ids, ff) {
    const p = this.markerFilter(filter);
    let items = this.s.markers.filter(p);
    if (ids) items = items.filter((x) => ids.includes(x.id));
    ff = Object.assign({ sort: 'title' }, ff || {});
    return this.page('marker', items, ff, (m) => [
      m.title, (this.scene(m.scene_id) || {}).title, (this.tag(m.primary_tag_id) || {}).name,
    ]);
  }

  // ---- tag rules (pkg/tag in Stash)

  // Stash looks the name up with the EQUALS (LIKE) filter on names, then on aliases.
  ensureTagNameUnique(id, name) {
    const byName = this.s.tags.find((t) => t.id !== id && likeMatch(t.name, name));
    if (byName) throw new UserError(`tag with name '${name}' already exists`);
    const byAlias = this.s.tags.find((t) => t.id !== id && t.aliases.some((a) => likeMatch(a, name)));
    if (byAlias) throw new UserError(`name '${name}' is used as alias for '${byAlias.name}'`);
  }

  checkTagIds(ids) {
    for (const i of ids) if (!this.tag(i)) throw new UserError('FOREIGN KEY constraint failed');
  }

  checkPerformerIds(ids) {
    for (const i of ids) if (!this.performer(i)) throw new UserError('FOREIGN KEY constraint failed');
  }

  // ---- performer rules (pkg/performer/validate.go in Stash)

  // The name is looked up with EQUALS (LIKE) together with the disambiguation (EQUALS, or
  // IS_NULL when there is none): a clash with any other performer fails.
  ensurePerformerNameUnique(id, name, disambig) {
    if (!name) throw new UserError('performer name must not be blank');
    const d = disambig
      ? stringPredicate({ value: disambig, modifier: 'EQUALS' })
      : stringPredicate({ value: '', modifier: 'IS_NULL' });
    const clash = this.s.performers.find((p) => p.id !== id && likeMatch(p.name, name) && d(p.disambiguation));
    if (clash) {
      if (disambig) throw new UserError(`performer with name '${name}' and disambiguation '${disambig}' already exists`);
      throw new UserError(`performer with name '${name}' already exists`);
    }
  }

  // Aliases may not repeat each other or the name (Go strings.ToLower comparison).
  static checkPerformerAliases(name, aliases) {
    const seen = new Set([name.toLowerCase()]);
    for (const a of aliases) {
      const k = a.toLowerCase();
      if (seen.has(k)) throw new UserError(`performer contains duplicate alias '${a}'`);
      seen.add(k);
    }
  }

  // A tag may not become its own ancestor.
  checkHierarchy(id, parentIds, childIds) {
    for (const p of parentIds) {
      if (p === id || (id && this.descend(id, -1).has(p)))
        throw new UserError(`cannot apply tag "${this.tag(p).name}" as a parent of tag as it is already a child`);
    }
    for (const c of childIds) {
      if (c === id || parentIds.some((p) => this.descend(c, -1).has(p)))
        throw new UserError(`cannot apply tag "${this.tag(c).name}" as a child of tag as it is already a parent`);
    }
  }

  // ---- seeding and the test view

  // Replaces the whole state. Accepts what view() returns (ids kept) or a hand-written seed
  // where tags are referenced by name and ids are optional.
  seed(obj) {
    const st = emptyState();
    st.session_key = this.s.session_key;
    const next = st.next_id;
    const stamp = now();
    const takeId = (kind, id) => {
      if (id === undefined || id === null) return String(next[kind]++);
      const s = parseIntId(id, `seed: ${kind} id`);
      next[kind] = Math.max(next[kind], Number(s) + 1);
      return s;
    };
    const byName = new Map();
    const addTag = (t) => {
      if (typeof t === 'string') t = { name: t };
      const key = t.name.toLowerCase();
      if (byName.has(key)) throw new UserError(`seed: duplicate tag name '${t.name}'`);
      const tag = {
        id: takeId('tag', t.id),
        name: t.name,
        sort_name: t.sort_name ?? null,
        description: t.description ?? null,
        aliases: t.aliases || [],
        ignore_auto_tag: !!t.ignore_auto_tag,
        favorite: !!t.favorite,
        parent_ids: t.parent_ids ? t.parent_ids.map(String) : [],
        _parents: t.parent_ids ? null : t.parents || [],
        created_at: t.created_at || stamp,
        updated_at: t.updated_at || stamp,
      };
      byName.set(key, tag);
      st.tags.push(tag);
      return tag;
    };
    // Explicit ids first so that tags created by name get fresh ids after them.
    const tagSpecs = obj.tags || [];
    for (const t of tagSpecs)
      if (typeof t === 'object' && t.id !== undefined) next.tag = Math.max(next.tag, Number(t.id) + 1);
    for (const t of tagSpecs) addTag(t);
    const tagRef = (n) => {
      const t = byName.get(String(n).toLowerCase());
      return t ? t.id : addTag(String(n)).id;
    };
    // Parents named in the seed: resolved now, so that a parent may also be created by name.
    for (const t of st.tags.slice()) if (t._parents) t.parent_ids = t._parents.map(tagRef);
    const file = (f, kind) => {
      if (typeof f === 'string') f = { path: f };
      const video = kind === 'scene' || f.duration !== undefined;
      return {
        id: takeId('file', f.id),
        path: f.path,
        size: f.size ?? 0,
        mod_time: f.mod_time || stamp,
        fingerprints: f.fingerprints || {},
        format: f.format || (video ? 'mp4' : 'jpeg'),
        width: f.width ?? (video ? 1920 : 640),
        height: f.height ?? (video ? 1080 : 480),
        ...(video
          ? {
              kind: 'video',
              duration: f.duration ?? 0,
              video_codec: f.video_codec || 'h264',
              audio_codec: f.audio_codec || 'aac',
              frame_rate: f.frame_rate ?? 30,
              bit_rate: f.bit_rate ?? 0,
            }
          : { kind: 'image' }),
        created_at: f.created_at || stamp,
        updated_at: f.updated_at || stamp,
      };
    };
    const media = (m, kind) => {
      const files = m.files ? m.files.map((f) => file(f, kind)) : m.path ? [file(Object.assign({}, m, { id: undefined }), kind)] : [];
      return {
        id: takeId(kind, m.id),
        title: m.title ?? null,
        code: m.code ?? null,
        details: m.details ?? null,
        urls: m.urls || [],
        date: m.date ?? null,
        rating100: m.rating100 ?? null,
        organized: !!m.organized,
        files,
        tag_ids: m.tag_ids ? m.tag_ids.map(String) : (m.tags || []).map(tagRef),
        performer_ids: m.performer_ids ? m.performer_ids.map(String) : (m.performers || []).map(perfRef),
        created_at: m.created_at || stamp,
        updated_at: m.updated_at || stamp,
      };
    };
    const perfByName = new Map();
    const addPerformer = (p) => {
      if (typeof p === 'string') p = { name: p };
      const rec = {
        id: takeId('performer', p.id),
        name: p.name,
        disambiguation: p.disambiguation ?? null,
        urls: p.urls || [],
        alias_list: p.alias_list || p.aliases || [],
        favorite: !!p.favorite,
        tag_ids: p.tag_ids ? p.tag_ids.map(String) : (p.tags || []).map(tagRef),
        ignore_auto_tag: !!p.ignore_auto_tag,
        rating100: p.rating100 ?? null,
        details: p.details ?? null,
        image: p.image ? String(p.image).replace(/^data:[^,]*;base64,/, '') : null,
        created_at: p.created_at || stamp,
        updated_at: p.updated_at || stamp,
      };
      perfByName.set(rec.name.toLowerCase(), rec);
      st.performers.push(rec);
      return rec;
    };
    const perfSpecs = obj.performers || [];
    for (const p of perfSpecs)
      if (typeof p === 'object' && p.id !== undefined) next.performer = Math.max(next.performer, Number(p.id) + 1);
    for (const p of perfSpecs) addPerformer(p);
    const perfRef = (n) => {
      const p = perfByName.get(String(n).toLowerCase());
      return p ? p.id : addPerformer(String(n)).id;
    };
    for (const k of ['scene', 'image'])
      for (const m of obj[k + 's'] || []) {
        if (m.id !== undefined) next[k] = Math.max(next[k], Number(m.id) + 1);
        for (const f of m.files || [])
          if (typeof f === 'object' && f.id !== undefined) next.file = Math.max(next.file, Number(f.id) + 1);
      }
    for (const m of obj.markers || []) if (m.id !== undefined) next.marker = Math.max(next.marker, Number(m.id) + 1);
    for (const sc of obj.scenes || []) for (const m of sc.markers || []) if (m.id !== undefined) next.marker = Math.max(next.marker, Number(m.id) + 1);
    const marker = (m, sceneId) => ({
      id: takeId('marker', m.id),
      scene_id: String(sceneId ?? m.scene_id),
      title: m.title ?? '',
      seconds: m.seconds ?? 0,
      end_seconds: m.end_seconds ?? null,
      primary_tag_id: m.primary_tag_id !== undefined ? String(m.primary_tag_id) : tagRef(m.primary_tag),
      tag_ids: m.tag_ids ? m.tag_ids.map(String) : (m.tags || []).map(tagRef),
      created_at: m.created_at || stamp,
      updated_at: m.updated_at || stamp,
    });
    for (const sc of obj.scenes || []) {
      const s = media(sc, 'scene');
      st.scenes.push(s);
      for (const m of sc.markers || []) st.markers.push(marker(m, s.id));
    }
    for (const m of obj.markers || []) st.markers.push(marker(m));
    for (const im of obj.images || []) st.images.push(media(im, 'image'));
    for (const t of st.tags) delete t._parents;
    st.plugins = obj.plugins || {};
    st.stashes = (obj.stashes || []).map((x) =>
      typeof x === 'string'
        ? { path: x, excludeVideo: false, excludeImage: false }
        : { path: x.path, excludeVideo: !!x.excludeVideo, excludeImage: !!x.excludeImage },
    );
    if (obj.next_id) for (const k of KINDS) next[k] = Math.max(next[k], Number(obj.next_id[k] || 1));
    this.s = st;
    this.save();
  }

  // The whole state, with tag names next to tag ids and markers under their scenes;
  // seed(view()) reproduces the same state.
  view() {
    const names = (ids) => ids.map((i) => (this.tag(i) || { name: null }).name);
    const mediaView = (x) => ({
      ...x,
      path: x.files.length ? x.files[0].path : null,
      tags: names(x.tag_ids),
      performers: x.performer_ids.map((i) => (this.performer(i) || { name: null }).name),
    });
    return {
      next_id: this.s.next_id,
      tags: this.s.tags.map((t) => ({ ...t, parents: names(t.parent_ids) })),
      scenes: this.s.scenes.map((x) => ({
        ...mediaView(x),
        markers: this.sceneMarkers(x.id).map((m) => ({
          ...m,
          primary_tag: (this.tag(m.primary_tag_id) || { name: null }).name,
          tags: names(m.tag_ids),
        })),
      })),
      images: this.s.images.map(mediaView),
      performers: this.s.performers.map((p) => ({ ...p, tags: names(p.tag_ids) })),
      plugins: this.s.plugins,
      stashes: this.s.stashes,
    };
  }
}

module.exports = { Store, UserError, likeMatch, naturalCompare, parseIntId, now };
