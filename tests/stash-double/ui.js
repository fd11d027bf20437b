'use strict';
// ui.js - a UI double: the few pages of Stash's web UI (ui/v2.5, v0.30.1) that aitag's UI
// plugin (plugin/aitag.js) acts on, for the browser test (tests/e2e/plugin_ui.sh).
//
// Stash's UI is a React single-page app; these pages are plain HTML plus a small script that
// produces the same DOM at the places the plugin looks, the way React does it:
//   /scenes/ID, /images/ID  a loading indicator first, then (after a findScene/findImage query
//                           over /graphql with the session cookie) the detail page with
//                           `.scene-toolbar` / `.image-toolbar` and their `*-toolbar-group`s
//                           (Scenes/SceneDetails/Scene.tsx, Images/ImageDetails/Image.tsx)
//   /scenes, /images        the list: `.filtered-list-toolbar` (a react-bootstrap ButtonToolbar,
//                           List/FilteredListToolbar.tsx) and a grid of cards
//                           (Shared/GridCard/GridCard.tsx: `.card.scene-card.grid-card` with
//                           `.card-controls > input.card-check` and links to /scenes/ID?...).
//                           Checking a card re-renders the toolbar as Stash does: it gains
//                           `has-selection` and the search/filter/sort controls are replaced by
//                           `.selected-items-info` with `.selected-count`.
// The plugin is loaded as Stash loads enabled plugins' UI files: <script> and <link> tags for
// /plugin/aitag/javascript and /plugin/aitag/css (internal/api/routes_plugin.go), added once
// the app is running. Only the structure and class names matter; the look is a rough imitation
// of Stash's dark Bootstrap 4 theme so that screenshots are readable.

const CSS = `
html, body { background: #202b33; color: #f5f8fa; font-family: "DejaVu Sans", sans-serif; font-size: 14px; margin: 0; }
a { color: #48aff0; text-decoration: none; }
.navbar { background: #394b59; display: flex; gap: 1rem; padding: 0.5rem 1rem; }
.navbar .navbar-brand { color: #f5f8fa; font-weight: bold; }
.main { padding: 1rem; }
.row { display: flex; flex-wrap: wrap; gap: 1rem; }
.justify-content-center { justify-content: center; }
.btn { border: 1px solid transparent; border-radius: 0.25rem; cursor: pointer; font-size: 14px; padding: 0.375rem 0.75rem; }
.btn-secondary { background: #394b59; color: #f5f8fa; }
.btn-secondary.minimal { background: transparent; }
.btn-secondary:hover { background: #30404d; }
.btn:disabled { opacity: 0.65; }
.btn-group { display: inline-flex; }
.btn-toolbar { align-items: center; display: flex; flex-wrap: wrap; gap: 0.5rem; margin-bottom: 1rem; }
.form-control { background: #394b59; border: 1px solid #5c7080; border-radius: 0.25rem; color: #f5f8fa; padding: 0.375rem 0.75rem; }
.scene-tabs, .image-tabs { flex: 0 0 28rem; }
.scene-header, .image-header { font-size: 1.5rem; margin: 0.5rem 0; }
.scene-toolbar, .image-toolbar { align-items: center; display: flex; justify-content: space-between; margin: 0.5rem 0; }
.scene-toolbar-group, .image-toolbar-group { align-items: center; display: flex; }
.rating-stars { color: #f5f8fa; letter-spacing: 0.15rem; }
.scene-player-container, .image-container { background: #000; flex: 1; height: 20rem; min-width: 20rem; }
.grid-card { background: #30404d; border-radius: 3px; display: flex; flex-direction: column; position: relative; width: 15rem; }
.card-controls { left: 0.5rem; position: absolute; top: 0.5rem; }
.card-check { height: 1.2rem; padding: 0; width: 1.2rem; }
.thumbnail-section { align-items: center; background: #10161a; display: flex; height: 8rem; justify-content: center; }
.card-section { padding: 0.5rem 0.75rem; }
.card-section-title { font-size: 1rem; margin: 0; }
.selected-items-info { align-items: center; display: flex; }
.selected-count { padding: 0 0.5rem; }
.toast { border-radius: 0.25rem; }
.toast-body { padding: 0.75rem; }
`;

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

// The app script, run in the browser. `route` is {kind: "scene"|"image", id: "12"|null}.
function app(route) {
  const GQL = {
    scene: 'query FindScene($id: ID!) { findScene(id: $id) { id title files { path } } }',
    image: 'query FindImage($id: ID!) { findImage(id: $id) { id title visual_files { ... on ImageFile { path } } } }',
    scenes:
      'query FindScenes($filter: FindFilterType) { findScenes(filter: $filter) { count scenes { id title files { path } } } }',
    images:
      'query FindImages($filter: FindFilterType) { findImages(filter: $filter) { count images { id title visual_files { ... on ImageFile { path } } } } }',
  };
  const root = document.getElementById('root');
  const h = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'className') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  };
  const gql = (query, variables) =>
    fetch(new URL('graphql', document.baseURI), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    })
      .then((r) => r.json())
      .then((b) => {
        if (b.errors) throw new Error(b.errors[0].message);
        return b.data;
      });
  const titleOf = (x) => x.title || (x.files || x.visual_files || [{ path: x.id }])[0].path.split('/').pop();
  const loadPlugins = () => {
    // Stash adds the enabled plugins' UI files once its plugins query has answered.
    document.head.append(h('link', { rel: 'stylesheet', href: 'plugin/aitag/css' }));
    document.body.append(h('script', { src: 'plugin/aitag/javascript' }));
  };
  const loading = h('div', { className: 'LoadingIndicator' }, h('span', {}, 'Loading...'));
  root.append(loading);
  loadPlugins();

  const kind = route.kind;
  if (route.id) {
    gql(GQL[kind], { id: route.id }).then((d) => {
      const x = d[kind === 'scene' ? 'findScene' : 'findImage'];
      loading.remove();
      if (!x) {
        root.append(h('div', { className: 'error-message' }, `No ${kind} found with id ${route.id}.`));
        return;
      }
      const btn = (label, cls) => h('span', {}, h('button', { type: 'button', className: 'btn btn-secondary minimal ' + (cls || '') }, label));
      const groups = [h('span', { className: `${kind}-toolbar-group` }, h('div', { className: 'rating-stars' }, '\u2606\u2606\u2606\u2606\u2606'))];
      const ops = h('span', { className: `${kind}-toolbar-group` });
      if (kind === 'scene') ops.append(btn('\u25b6 0', 'external-player-button'), btn('\u25c9 0', 'view-count-button'));
      ops.append(btn('O 0', 'o-counter-button'), btn('\u2713', 'organized-button'), btn('\u22ef', 'dropdown-toggle'));
      groups.push(ops);
      root.append(
        h('div', { className: 'row' },
          h('div', { className: `${kind}-tabs order-xl-first order-last` },
            h('div', {},
              h('div', { className: `${kind}-header-container` }, h('h3', { className: `${kind}-header` }, titleOf(x))),
              h('div', { className: `${kind}-subheader` }, h('span', { className: 'date' })),
              h('div', { className: `${kind}-toolbar` }, ...groups))),
          h('div', { className: kind === 'scene' ? 'scene-player-container' : 'image-container' })));
    });
    return;
  }

  // The list: FilteredListToolbar above a grid of GridCards.
  const selected = new Set();
  const toolbar = h('div', { role: 'toolbar', className: 'btn-toolbar filtered-list-toolbar' });
  const own = []; // the nodes "React" rendered into the toolbar (anything else is left alone)
  const grid = h('div', { className: 'row justify-content-center' });
  let items = [];
  const renderToolbar = () => {
    for (const n of own.splice(0)) n.remove();
    const has = selected.size > 0;
    toolbar.classList.toggle('has-selection', has);
    if (has) {
      own.push(
        h('div', { className: 'selected-items-info' },
          h('button', { type: 'button', className: 'btn btn-secondary minimal', title: 'Select None', onclick: () => setAll(false) }, '\u00d7'),
          h('span', { className: 'selected-count' }, String(selected.size)),
          h('button', { type: 'button', className: 'btn btn-secondary minimal', title: 'Select All', onclick: () => setAll(true) }, '\u2611')));
    } else {
      own.push(
        h('div', { className: 'search-term-input' }, h('input', { className: 'form-control', placeholder: 'Search\u2026' })),
        h('div', { role: 'group', className: 'btn-group' }, h('button', { type: 'button', className: 'btn btn-secondary' }, 'Filter')),
        h('div', { className: 'sort-by-select' }, h('button', { type: 'button', className: 'btn btn-secondary' }, 'Path \u2191')));
    }
    own.push(h('div', { role: 'group', className: 'btn-group' }, h('button', { type: 'button', className: 'btn btn-secondary' }, '\u22ee')));
    const first = toolbar.firstChild;
    for (const n of own) toolbar.insertBefore(n, first);
  };
  const renderGrid = () => {
    grid.replaceChildren(
      ...items.map((x, i) => {
        const url = kind === 'scene' ? `/scenes/${x.id}?qsort=path&qsortd=asc&qfp=1&continue=false` : `/images/${x.id}`;
        const check = h('input', { type: 'checkbox', className: 'card-check mousetrap form-control' });
        check.checked = selected.has(x.id);
        check.addEventListener('click', (e) => e.stopPropagation());
        check.addEventListener('change', () => toggle(x.id, check.checked));
        const card = h('div', { className: `card ${kind}-card zoom-1 grid-card`, 'data-index': String(i) },
          h('div', { className: 'card-controls' }, check),
          h('div', { className: `${kind === 'scene' ? 'video-section ' : ''}thumbnail-section` },
            h('a', { className: `${kind}-card-link`, href: url }, h('span', {}, '\u25a3'))),
          h('div', { className: 'card-section' },
            h('a', { href: url }, h('h5', { className: 'card-section-title flex-aligned' }, h('div', { className: 'TruncatedText' }, titleOf(x))))));
        // While selecting, a click on a card toggles it instead of following the link.
        card.addEventListener('click', (e) => {
          if (selected.size === 0) return;
          e.preventDefault();
          toggle(x.id, !selected.has(x.id));
        });
        return card;
      }));
  };
  const toggle = (id, on) => {
    if (on) selected.add(id);
    else selected.delete(id);
    renderToolbar();
    renderGrid();
  };
  const setAll = (on) => {
    selected.clear();
    if (on) for (const x of items) selected.add(x.id);
    renderToolbar();
    renderGrid();
  };
  gql(GQL[kind + 's'], { filter: { per_page: 40, sort: 'path', direction: 'ASC' } }).then((d) => {
    items = kind === 'scene' ? d.findScenes.scenes : d.findImages.images;
    loading.remove();
    renderToolbar();
    renderGrid();
    root.append(
      h('div', { className: `item-list-container ${kind}-list` },
        h('div', { className: 'sidebar-pane' }, h('div', { className: 'sidebar-pane-content' }, toolbar, grid))));
  });
}

// The HTML of a UI page, or null when the path is not one of them.
function page(pathname) {
  let m = pathname.match(/^\/(scenes|images)(?:\/(\d+))?\/?$/);
  if (!m) return null;
  const route = { kind: m[1] === 'scenes' ? 'scene' : 'image', id: m[2] || null };
  const title = route.id ? `${route.kind} ${route.id}` : m[1];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<base href="/">
<link rel="icon" href="data:,">
<title>${esc(title)} | Stash</title>
<style>${CSS}</style>
</head>
<body>
<nav class="navbar"><a class="navbar-brand" href="/">Stash</a><a href="/scenes">Scenes</a><a href="/images">Images</a></nav>
<div class="main container-fluid"><div id="root"></div></div>
<script>(${app.toString()})(${JSON.stringify(route)});</script>
</body>
</html>
`;
}

module.exports = { page };
