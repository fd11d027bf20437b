// library.js - the library grid: a page of items with their thumbnails and top tags, filtered
// by words (paths, tag names, recognised text) or by one tag.
import { get } from './api.js';
import { el, clock, fill } from './dom.js';

const PAGE = 60;

function tile(item) {
  const meta = item.kind === 'video' ? clock(item.duration) : `${item.width}×${item.height}`;
  return el('a', { class: 'tile', href: `#/item/${item.id}`, dataset: { id: item.id } },
    el('img', { src: `/api/items/${item.id}/thumb`, alt: '', loading: 'lazy', width: 320, height: 180 }),
    el('span', { class: 'name', title: item.path }, item.name),
    el('span', { class: 'meta' }, `${item.kind || ''} · ${meta} · ${item.n_tags} tags`),
    el('span', { class: 'tags' }, item.tags.map((t) => el('span', { class: 'chip' }, t))));
}

// The page's data; asked for at once, beside the session (app.js), to save a round trip.
export function libraryData(params) {
  const page = Math.max(0, Number(params.get('page') || 0));
  const q = params.get('q') || '', tag = params.get('tag') || '';
  return get('/api/items', { q, tag, offset: page * PAGE, limit: PAGE });
}

export async function libraryPage(main, params, data) {
  const page = Math.max(0, Number(params.get('page') || 0));
  const q = params.get('q') || '', tag = params.get('tag') || '';
  const res = data || await libraryData(params);
  const link = (p) => {
    const s = new URLSearchParams(params);
    s.set('page', p);
    return `#/?${s}`;
  };
  // with words: the items they mean too (WordNet, context rules: "animal" finds the birds)
  const meaning = q ? await get('/api/search', { q, limit: 20 }).catch(() => null) : null;
  const title = q ? `“${q}”` : tag ? `Tag ${tag}` : 'Library';
  const pages = Math.max(1, Math.ceil(res.total / PAGE));
  fill(main,
    el('h1', {}, title, el('span', { class: 'count', id: 'total' }, ` ${res.total} items`)),
    meaning && meaning.hits.length ? el('section', { class: 'meaning' },
      el('h2', {}, 'By meaning'),
      el('ol', { id: 'meaning' }, meaning.hits.map((h) => el('li', { dataset: { id: h.id } },
        el('a', { href: `#/item/${h.id}` }, h.name || `item ${h.id}`),
        el('span', { class: 'meta' }, ` ${h.score.toFixed(2)} · ${h.why}`))))) : null,
    q ? el('h2', {}, 'By name, tag and text') : null,
    res.items.length ? el('div', { class: 'grid', id: 'grid' }, res.items.map(tile))
      : el('p', { class: 'empty' }, 'Nothing here.'),
    pages > 1 ? el('nav', { class: 'pager' },
      page > 0 ? el('a', { href: link(page - 1) }, '← previous') : null,
      ` page ${page + 1} of ${pages} `,
      page + 1 < pages ? el('a', { href: link(page + 1) }, 'next →') : null) : null);
  return null;
}
