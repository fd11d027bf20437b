'use strict';
// resolvers.js - the executable schema: schema.graphql (cut to the Stash version being imitated)
// plus resolvers that read and change the Store.
//
// Resolvers follow Stash's resolver rules where a client can notice them: fields absent from an
// input leave a value alone while an explicit null clears it (Stash's changesetTranslator);
// `ids` arguments bypass filters and paging and fail on an unknown id (FindMany); marker tag
// lists never contain the primary tag; every mutation is one transaction; error messages are
// Stash's own wording so a client that matches on them is tested against the real text.

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { buildSchema } = require('graphql');
const { UserError, parseIntId, now } = require('./store');

// Drops the lines marked "# since vX.Y.Z" that are newer than `version` ("v0.27.2").
function schemaText(version) {
  const want = parseVersion(version);
  const src = fs.readFileSync(path.join(__dirname, 'schema.graphql'), 'utf8');
  return src
    .split('\n')
    .filter((line) => {
      const m = /#\s*since\s+(v?\d+\.\d+\.\d+)\s*$/.exec(line);
      return !m || compareVersions(want, parseVersion(m[1])) >= 0;
    })
    .join('\n');
}

function parseVersion(v) {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(String(v));
  if (!m) throw new Error(`bad version "${v}" (want vMAJOR.MINOR.PATCH)`);
  return m.slice(1, 4).map(Number);
}

function compareVersions(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const byNum = (a, b) => Number(a) - Number(b);
const uniqIds = (ids) => [...new Set(ids.map(String))].sort(byNum);

function idList(ids, field) {
  return (ids || []).map((i) => parseIntId(i, `converting ${field}`));
}

// Copies the plain fields present in `input` onto `rec`.
function applyScalars(rec, input, keys) {
  for (const k of keys) if (has(input, k)) rec[k] = input[k] === undefined ? null : input[k];
}

// Stash's utils.ProcessImageInput: "" is no image; a data URL (^data:.+/(.+);base64,(.*)$) is
// decoded with Go's strict StdEncoding; anything else is fetched as a URL (HTTP >= 400 fails).
// Resolvers are synchronous, so a URL is fetched by a child node process; a URL served by the
// double itself cannot be fetched this way (the double is busy answering) and fails.
function processImage(input) {
  if (input === null || input === undefined || input === '') return '';
  const m = /^data:.+\/(.+);base64,(.*)$/s.exec(input);
  if (m) {
    const b64 = m[2];
    const bad = b64.search(/[^A-Za-z0-9+/=]/);
    const pad = b64.indexOf('=');
    if (bad >= 0) throw new UserError(`processing image: illegal base64 data at input byte ${bad}`);
    if (b64.length % 4 !== 0 || (pad >= 0 && (pad < b64.length - 2 || /[^=]/.test(b64.slice(pad)))))
      throw new UserError(
        `processing image: illegal base64 data at input byte ${pad >= 0 ? pad : b64.length - (b64.length % 4)}`,
      );
    return b64;
  }
  const script =
    'fetch(process.argv[1]).then(async (r) => { if (r.status >= 400) { process.stderr.write(`http error ${r.status}`);' +
    ' process.exit(1); } process.stdout.write(Buffer.from(await r.arrayBuffer()).toString("base64")); })' +
    '.catch((e) => { process.stderr.write(String(e.cause ? e.cause.message || e.cause : e.message)); process.exit(1); });';
  try {
    return execFileSync(process.execPath, ['-e', script, input], {
      timeout: 60000,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    throw new UserError(`processing image: ${String(e.stderr || e.message).trim()}`);
  }
}

function fileFields() {
  return {
    basename: (f) => path.basename(f.path),
    fingerprint: (f, { type }) => (f.fingerprints && has(f.fingerprints, type) ? String(f.fingerprints[type]) : null),
    fingerprints: (f) => Object.entries(f.fingerprints || {}).map(([type, value]) => ({ type, value: String(value) })),
  };
}

function makeResolvers(opts) {
  const st = (ctx) => ctx.store;

  // FindMany: every id must exist.
  const findMany = (ctx, kind, ids) =>
    ids.map((id) => {
      const x = st(ctx)[kind](id);
      if (!x) throw new UserError(`${kind === 'marker' ? 'scene marker' : kind} with id ${id} not found`);
      return x;
    });

  const mediaScalars = ['title', 'code', 'details', 'urls', 'date', 'rating100', 'organized'];

  // Applies a BulkUpdateIds to a list of ids.
  const bulkIds = (store, current, upd) => {
    const ids = idList(upd.ids, 'tag ids');
    if (upd.mode !== 'REMOVE') store.checkTagIds(ids);
    if (upd.mode === 'SET') return uniqIds(ids);
    if (upd.mode === 'ADD') return uniqIds(current.concat(ids));
    return current.filter((i) => !ids.includes(i));
  };

  // The performer fields a create or an update may set, besides name, aliases, tags and image.
  const performerScalars = ['urls', 'favorite', 'rating100', 'details', 'ignore_auto_tag'];
  const trimOrNull = (v) => (v === null || v === undefined ? null : String(v).trim());

  // performer_ids of a media update: [ID!] replaces, BulkUpdateIds applies its mode.
  const performerIds = (store, current, upd) => {
    if (Array.isArray(upd) || upd === null) {
      const ids = idList(upd, 'performer ids');
      store.checkPerformerIds(ids);
      return uniqIds(ids);
    }
    const ids = idList(upd.ids, 'performer ids');
    if (upd.mode !== 'REMOVE') store.checkPerformerIds(ids);
    if (upd.mode === 'SET') return uniqIds(ids);
    if (upd.mode === 'ADD') return uniqIds(current.concat(ids));
    return current.filter((i) => !ids.includes(i));
  };

  const mediaUpdate = (kind, table) => (_, { input }, ctx) =>
    st(ctx).transaction(() => {
      const store = st(ctx);
      const id = parseIntId(input.id, 'converting id');
      const x = store[kind](id);
      if (!x) throw new UserError(`${kind} with id ${id} not found`);
      applyScalars(x, input, mediaScalars);
      if (x.urls === null) x.urls = [];
      if (has(input, 'tag_ids')) {
        const ids = idList(input.tag_ids, 'tag ids');
        store.checkTagIds(ids);
        x.tag_ids = uniqIds(ids);
      }
      if (has(input, 'performer_ids')) x.performer_ids = performerIds(store, x.performer_ids, input.performer_ids);
      x.updated_at = now();
      return x;
    });

  const mediaBulkUpdate = (kind, table) => (_, { input }, ctx) =>
    st(ctx).transaction(() => {
      const store = st(ctx);
      const ids = idList(input.ids, 'ids');
      return ids.map((id) => {
        const x = store[kind](id);
        if (!x) throw new UserError(`id ${id} does not exist in ${table}`);
        applyScalars(x, input, mediaScalars.filter((k) => k !== 'urls'));
        if (input.tag_ids) x.tag_ids = bulkIds(store, x.tag_ids, input.tag_ids);
        if (input.performer_ids) x.performer_ids = performerIds(store, x.performer_ids, input.performer_ids);
        x.updated_at = now();
        return x;
      });
    });

  const checkEnd = (seconds, end) => {
    if (end !== null && end !== undefined && end < seconds)
      throw new UserError(
        `end_seconds (${end.toFixed(6)}) must be greater than or equal to seconds (${seconds.toFixed(6)})`,
      );
  };

  const Query = {
    findScene: (_, { id, checksum }, ctx) => {
      if (id !== undefined && id !== null) return st(ctx).scene(parseIntId(id, 'converting id'));
      if (checksum)
        return (
          st(ctx).s.scenes.find((x) =>
            x.files.some((f) => f.fingerprints && (f.fingerprints.md5 === checksum || f.fingerprints.oshash === checksum)),
          ) || null
        );
      return null;
    },
    findScenes: (_, a, ctx) => {
      let ids = a.ids && a.ids.length ? idList(a.ids, 'ids') : a.scene_ids && a.scene_ids.length ? a.scene_ids.map(String) : null;
      if (ids) return { count: ids.length, items: findMany(ctx, 'scene', ids) };
      return st(ctx).findScenes(a.scene_filter, null, a.filter);
    },
    findSceneMarkers: (_, a, ctx) => {
      if (a.ids && a.ids.length) {
        const ids = idList(a.ids, 'ids');
        return { count: ids.length, items: findMany(ctx, 'marker', ids) };
      }
      return st(ctx).findMarkers(a.scene_marker_filter, null, a.filter);
    },
    findImage: (_, { id, checksum }, ctx) => {
      if (id !== undefined && id !== null) return st(ctx).image(parseIntId(id, 'converting id'));
      if (checksum)
        return (
          st(ctx).s.images.find((x) =>
            x.files.some((f) => f.fingerprints && (f.fingerprints.md5 === checksum || f.fingerprints.oshash === checksum)),
          ) || null
        );
      return null;
    },
    findImages: (_, a, ctx) => {
      let ids = a.ids && a.ids.length ? idList(a.ids, 'ids') : a.image_ids && a.image_ids.length ? a.image_ids.map(String) : null;
      if (ids) return { count: ids.length, items: findMany(ctx, 'image', ids) };
      return st(ctx).findImages(a.image_filter, null, a.filter);
    },
    findPerformer: (_, { id }, ctx) => st(ctx).performer(parseIntId(id, 'converting id')),
    findPerformers: (_, a, ctx) => {
      const ids = a.ids && a.ids.length ? idList(a.ids, 'ids')
        : a.performer_ids && a.performer_ids.length ? a.performer_ids.map(String) : null;
      if (ids) return { count: ids.length, items: findMany(ctx, 'performer', ids) };
      return st(ctx).findPerformers(a.performer_filter, null, a.filter);
    },
    findTag: (_, { id }, ctx) => st(ctx).tag(parseIntId(id, 'converting id')),
    findTags: (_, a, ctx) => {
      if (a.ids && a.ids.length) {
        const ids = idList(a.ids, 'ids');
        return { count: ids.length, items: findMany(ctx, 'tag', ids) };
      }
      return st(ctx).findTags(a.tag_filter, null, a.filter);
    },
    configuration: () => ({}),
    version: () => ({ version: opts.version, hash: opts.hash, build_time: opts.buildTime }),
  };

  const Mutation = {
    sceneUpdate: mediaUpdate('scene', 'scenes'),
    bulkSceneUpdate: mediaBulkUpdate('scene', 'scenes'),
    imageUpdate: mediaUpdate('image', 'images'),
    bulkImageUpdate: mediaBulkUpdate('image', 'images'),

    sceneMarkerCreate: (_, { input }, ctx) =>
      st(ctx).transaction(() => {
        const store = st(ctx);
        const sceneId = parseIntId(input.scene_id, 'converting scene id');
        const primary = parseIntId(input.primary_tag_id, 'converting primary tag id');
        checkEnd(input.seconds, input.end_seconds);
        const tagIds = idList(input.tag_ids, 'tag ids');
        if (!store.scene(sceneId)) throw new UserError('FOREIGN KEY constraint failed');
        store.checkTagIds([primary, ...tagIds]);
        const m = {
          id: store.newId('marker'),
          scene_id: sceneId,
          title: input.title.trim(),
          seconds: input.seconds,
          end_seconds: input.end_seconds ?? null,
          primary_tag_id: primary,
          tag_ids: uniqIds(tagIds.filter((t) => t !== primary)),
          created_at: now(),
          updated_at: now(),
        };
        store.s.markers.push(m);
        return m;
      }),

    sceneMarkerUpdate: (_, { input }, ctx) =>
      st(ctx).transaction(() => {
        const store = st(ctx);
        const id = parseIntId(input.id, 'converting id');
        const m = store.marker(id);
        if (!m) throw new UserError(`scene marker with id ${id} not found`);
        if (has(input, 'scene_id') && input.scene_id !== null) {
          const sid = parseIntId(input.scene_id, 'converting scene id');
          if (!store.scene(sid)) throw new UserError('FOREIGN KEY constraint failed');
          m.scene_id = sid;
        }
        if (has(input, 'primary_tag_id') && input.primary_tag_id !== null) {
          const p = parseIntId(input.primary_tag_id, 'converting primary tag id');
          store.checkTagIds([p]);
          m.primary_tag_id = p;
        }
        if (has(input, 'title') && input.title !== null) m.title = input.title;
        if (has(input, 'seconds') && input.seconds !== null) m.seconds = input.seconds;
        if (has(input, 'end_seconds')) m.end_seconds = input.end_seconds;
        if (has(input, 'seconds') || (has(input, 'end_seconds') && input.end_seconds !== null))
          checkEnd(m.seconds, m.end_seconds);
        if (has(input, 'tag_ids')) {
          const ids = idList(input.tag_ids, 'tag ids');
          store.checkTagIds(ids);
          m.tag_ids = uniqIds(ids.filter((t) => t !== m.primary_tag_id));
        }
        m.updated_at = now();
        return m;
      }),

    sceneMarkerDestroy: (_, { id }, ctx) => Mutation.sceneMarkersDestroy(_, { ids: [id] }, ctx),
    sceneMarkersDestroy: (_, { ids }, ctx) =>
      st(ctx).transaction(() => {
        const store = st(ctx);
        for (const raw of ids) {
          const id = parseIntId(raw, 'converting ids');
          if (!store.marker(id)) throw new UserError(`scene marker with id ${id} not found`);
          store.s.markers = store.s.markers.filter((m) => m.id !== id);
        }
        return true;
      }),

    // Stash's PerformerCreate: name and aliases trimmed, the image processed before the
    // transaction, then the name/disambiguation and alias checks.
    performerCreate: (_, { input }, ctx) => {
      const image = processImage(input.image);
      return st(ctx).transaction(() => {
        const store = st(ctx);
        const name = input.name.trim();
        const aliases = (input.alias_list || []).map((a) => a.trim());
        const disambig = trimOrNull(input.disambiguation);
        const tagIds = idList(input.tag_ids, 'tag ids');
        store.ensurePerformerNameUnique(null, name, disambig);
        store.constructor.checkPerformerAliases(name, aliases);
        store.checkTagIds(tagIds);
        const p = {
          id: store.newId('performer'),
          name,
          disambiguation: disambig || null,
          urls: (input.urls || []).map((u) => u.trim()),
          alias_list: aliases,
          favorite: !!input.favorite,
          tag_ids: uniqIds(tagIds),
          ignore_auto_tag: !!input.ignore_auto_tag,
          rating100: input.rating100 ?? null,
          details: input.details ?? null,
          image: image || null,
          created_at: now(),
          updated_at: now(),
        };
        store.s.performers.push(p);
        return p;
      });
    },

    // Stash's PerformerUpdate: fields left out stay, an explicit null clears; "image" present
    // replaces the image ("" or null deletes it).
    performerUpdate: (_, { input }, ctx) => {
      const image = has(input, 'image') ? processImage(input.image) : undefined;
      return st(ctx).transaction(() => {
        const store = st(ctx);
        const id = parseIntId(input.id, 'converting id');
        const p = store.performer(id);
        if (!p) throw new UserError(`performer with id ${id} not found`);
        if (has(input, 'name') || has(input, 'disambiguation')) {
          const name = has(input, 'name') ? trimOrNull(input.name) || '' : p.name;
          const disambig = has(input, 'disambiguation') ? trimOrNull(input.disambiguation) : p.disambiguation;
          store.ensurePerformerNameUnique(id, name, disambig);
          p.name = name;
          p.disambiguation = disambig || null;
        }
        if (has(input, 'alias_list')) p.alias_list = (input.alias_list || []).map((a) => a.trim());
        if (has(input, 'name') || has(input, 'alias_list')) store.constructor.checkPerformerAliases(p.name, p.alias_list);
        applyScalars(p, input, performerScalars);
        if (p.urls === null) p.urls = [];
        if (p.favorite === null) p.favorite = false;
        if (p.ignore_auto_tag === null) p.ignore_auto_tag = false;
        if (has(input, 'tag_ids')) {
          const ids = idList(input.tag_ids, 'tag ids');
          store.checkTagIds(ids);
          p.tag_ids = uniqIds(ids);
        }
        if (image !== undefined) p.image = image || null;
        p.updated_at = now();
        return p;
      });
    },

    tagCreate: (_, { input }, ctx) =>
      st(ctx).transaction(() => {
        const store = st(ctx);
        const name = input.name.trim();
        const aliases = (input.aliases || []).map((a) => a.trim());
        const parents = idList(input.parent_ids, 'parent tag ids');
        const children = idList(input.child_ids, 'child tag ids');
        if (!name) throw new UserError('tag name must not be blank');
        store.ensureTagNameUnique(null, name);
        for (const a of aliases) store.ensureTagNameUnique(null, a);
        store.checkTagIds([...parents, ...children]);
        store.checkHierarchy(null, parents, children);
        const t = {
          id: store.newId('tag'),
          name,
          sort_name: input.sort_name ?? null,
          description: input.description ?? null,
          aliases,
          ignore_auto_tag: !!input.ignore_auto_tag,
          favorite: !!input.favorite,
          parent_ids: uniqIds(parents),
          created_at: now(),
          updated_at: now(),
        };
        store.s.tags.push(t);
        for (const c of children) {
          const ct = store.tag(c);
          ct.parent_ids = uniqIds([...ct.parent_ids, t.id]);
        }
        return t;
      }),

    tagUpdate: (_, { input }, ctx) =>
      st(ctx).transaction(() => {
        const store = st(ctx);
        const id = parseIntId(input.id, 'converting id');
        const t = store.tag(id);
        if (!t) throw new UserError(`tag with id ${id} not found`);
        if (has(input, 'name')) {
          const name = input.name === null ? '' : input.name.trim();
          if (!name) throw new UserError('tag name must not be blank');
          store.ensureTagNameUnique(id, name);
          t.name = name;
        }
        if (has(input, 'aliases')) {
          const aliases = (input.aliases || []).map((a) => a.trim());
          for (const a of aliases) store.ensureTagNameUnique(id, a);
          t.aliases = aliases;
        }
        applyScalars(t, input, ['sort_name', 'description']);
        if (has(input, 'ignore_auto_tag')) t.ignore_auto_tag = !!input.ignore_auto_tag;
        if (has(input, 'favorite')) t.favorite = !!input.favorite;
        if (has(input, 'parent_ids') || has(input, 'child_ids')) {
          const parents = has(input, 'parent_ids') ? idList(input.parent_ids, 'parent tag ids') : t.parent_ids;
          const children = has(input, 'child_ids')
            ? idList(input.child_ids, 'child tag ids')
            : store.tagChildren(id).map((c) => c.id);
          store.checkTagIds([...parents, ...children]);
          t.parent_ids = [];
          for (const c of store.tagChildren(id)) c.parent_ids = c.parent_ids.filter((p) => p !== id);
          store.checkHierarchy(id, parents, children);
          t.parent_ids = uniqIds(parents);
          for (const c of children) {
            const ct = store.tag(c);
            ct.parent_ids = uniqIds([...ct.parent_ids, id]);
          }
        }
        t.updated_at = now();
        return t;
      }),

    // Stash's PerformerDestroy: the performer goes, and with it from every scene and image.
    performerDestroy: (_, { input }, ctx) =>
      st(ctx).transaction(() => {
        const store = st(ctx);
        const id = String(parseIntId(input.id, 'converting id'));
        if (!store.performer(id)) throw new UserError(`performer with id ${id} not found`);
        store.s.performers = store.s.performers.filter((p) => p.id !== id);
        for (const x of [...store.s.scenes, ...store.s.images]) x.performer_ids = x.performer_ids.filter((p) => p !== id);
        return true;
      }),

    tagDestroy: (_, { input }, ctx) =>
      st(ctx).transaction(() => {
        const store = st(ctx);
        const id = parseIntId(input.id, 'converting id');
        if (!store.tag(id)) throw new UserError(`tag with id ${id} not found`);
        store.s.tags = store.s.tags.filter((t) => t.id !== id);
        for (const t of store.s.tags) t.parent_ids = t.parent_ids.filter((p) => p !== id);
        for (const x of [...store.s.scenes, ...store.s.images]) x.tag_ids = x.tag_ids.filter((p) => p !== id);
        store.s.markers = store.s.markers.filter((m) => m.primary_tag_id !== id);
        for (const m of store.s.markers) m.tag_ids = m.tag_ids.filter((p) => p !== id);
        return true;
      }),

    configurePlugin: (_, { plugin_id, input }, ctx) =>
      st(ctx).transaction(() => {
        st(ctx).s.plugins[plugin_id] = input;
        return input;
      }),

    // Like Stash: queues a job and answers its id at once, whatever the plugin id (an unknown
    // plugin or task fails later, in the job). Jobs live in memory, as in Stash's job manager.
    runPluginTask: (_, { plugin_id, task_name, description, args_map }, ctx) =>
      ctx.jobs.add({
        plugin_id,
        task_name: task_name === undefined ? null : task_name,
        description: description === undefined ? null : description,
        args_map: args_map === undefined ? null : args_map,
      }),
  };

  const markerUrl = (ctx, m, what) => `${ctx.baseUrl}/scene/${m.scene_id}/scene_marker/${m.id}/${what}`;
  const tagCount = (ctx, t, depth, list) => {
    const ids = st(ctx).descend(t.id, depth);
    return list.filter((x) => x.tag_ids.some((i) => ids.has(i))).length;
  };

  return {
    Query,
    Mutation,
    ConfigResult: {
      general: (_, __, ctx) => ({
        stashes: st(ctx).s.stashes || [],
        configFilePath: path.join(opts.configDir, 'config.yml'),
        pluginsPath: path.join(opts.configDir, 'plugins'),
        apiKey: opts.apiKey || '',
        username: opts.noAuth ? '' : 'stash',
        maxSessionAge: opts.sessionMaxAge,
      }),
      plugins: (_, { include }, ctx) => {
        const all = st(ctx).s.plugins;
        if (!include || !include.length) return all;
        return Object.fromEntries(Object.entries(all).filter(([k]) => include.includes(k)));
      },
    },
    FindScenesResultType: {
      scenes: (r) => r.items,
      duration: (r) => r.items.reduce((a, x) => a + (x.files[0] ? x.files[0].duration : 0), 0),
      filesize: (r) => r.items.reduce((a, x) => a + (x.files[0] ? x.files[0].size : 0), 0),
    },
    FindImagesResultType: {
      images: (r) => r.items,
      megapixels: (r) =>
        r.items.reduce((a, x) => a + (x.files[0] ? (x.files[0].width * x.files[0].height) / 1e6 : 0), 0),
      filesize: (r) => r.items.reduce((a, x) => a + (x.files[0] ? x.files[0].size : 0), 0),
    },
    FindTagsResultType: { tags: (r) => r.items },
    FindPerformersResultType: { performers: (r) => r.items },
    Performer: {
      tags: (p, _, ctx) => st(ctx).tagsByIds(p.tag_ids),
      scenes: (p, _, ctx) => st(ctx).performerItems(p, 'scenes'),
      scene_count: (p, _, ctx) => st(ctx).performerItems(p, 'scenes').length,
      image_count: (p, _, ctx) => st(ctx).performerItems(p, 'images').length,
      // urlbuilders.PerformerURLBuilder: ?t=<updated_at as Unix seconds>, &default=true without
      // an image.
      image_path: (p, _, ctx) =>
        `${ctx.baseUrl}/performer/${p.id}/image?t=${Math.floor(Date.parse(p.updated_at) / 1000)}` +
        (p.image ? '' : '&default=true'),
    },
    FindSceneMarkersResultType: { scene_markers: (r) => r.items },
    Scene: {
      scene_markers: (x, _, ctx) => st(ctx).sceneMarkers(x.id),
      tags: (x, _, ctx) => st(ctx).tagsByIds(x.tag_ids),
      performers: (x, _, ctx) => st(ctx).performersByIds(x.performer_ids),
    },
    Image: {
      files: (x) => x.files.filter((f) => f.kind === 'image'),
      visual_files: (x) => x.files,
      tags: (x, _, ctx) => st(ctx).tagsByIds(x.tag_ids),
      performers: (x, _, ctx) => st(ctx).performersByIds(x.performer_ids),
    },
    SceneMarker: {
      scene: (m, _, ctx) => st(ctx).scene(m.scene_id),
      primary_tag: (m, _, ctx) => st(ctx).tag(m.primary_tag_id),
      tags: (m, _, ctx) => st(ctx).tagsByIds(m.tag_ids),
      stream: (m, _, ctx) => markerUrl(ctx, m, 'stream'),
      preview: (m, _, ctx) => markerUrl(ctx, m, 'preview'),
      screenshot: (m, _, ctx) => markerUrl(ctx, m, 'screenshot'),
    },
    Tag: {
      parents: (t, _, ctx) => st(ctx).tagsByIds(t.parent_ids),
      children: (t, _, ctx) => st(ctx).tagChildren(t.id),
      parent_count: (t) => t.parent_ids.length,
      child_count: (t, _, ctx) => st(ctx).tagChildren(t.id).length,
      scene_count: (t, { depth }, ctx) => tagCount(ctx, t, depth, st(ctx).s.scenes),
      image_count: (t, { depth }, ctx) => tagCount(ctx, t, depth, st(ctx).s.images),
      scene_marker_count: (t, { depth }, ctx) => st(ctx).markerCount(t.id, depth),
    },
    VideoFile: fileFields(),
    ImageFile: fileFields(),
  };
}

// Builds the executable schema for `opts.version` with resolvers attached.
function buildExecutableSchema(opts) {
  const schema = buildSchema(schemaText(opts.version));
  const full = buildSchema(schemaText('v999.0.0')); // every line: catches misspelt resolvers
  const resolvers = makeResolvers(opts);
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const fullType = full.getType(typeName);
    if (!fullType) throw new Error(`resolvers for ${typeName}, a type schema.graphql lacks`);
    for (const [name, fn] of Object.entries(fields)) {
      if (!fullType.getFields()[name]) throw new Error(`resolver ${typeName}.${name} has no field in schema.graphql`);
      const def = schema.getType(typeName) && schema.getType(typeName).getFields()[name];
      if (def) def.resolve = fn; // absent: the field is newer than the version imitated
    }
  }
  const fileType = (f) => (f.kind === 'video' ? 'VideoFile' : 'ImageFile');
  schema.getType('VisualFile').resolveType = fileType;
  schema.getType('BaseFile').resolveType = fileType;
  return schema;
}

module.exports = { buildExecutableSchema, parseVersion, compareVersions, schemaText };
