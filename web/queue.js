// queue.js - the review queue: tags no decision has judged, the most useful first (low
// confidence on frequent tags). Each entry can be accepted or rejected where it stands, or
// many at once (select, then the bulk buttons); decisions go one by one, in order, and the
// queue is fetched again after.
import { get, decide } from './api.js';
import { el, toast, fill } from './dom.js';

export async function queuePage(main, params) {
  const tag = params.get('tag') || '';
  const res = await get('/api/queue', { tag, limit: 200 });
  const chosen = new Set();
  const key = (e) => `${e.id}\u001f${e.tag}`;

  async function judge(entries, verdict) {
    let done = 0;
    for (const e of entries) {
      try {
        await decide(e.id, { verdict, tag: e.tag });
        done++;
      } catch (err) {
        toast(`${verdict} ${e.tag} on ${e.name}: ${err.message}`, true);
      }
    }
    toast(`${verdict}: ${done} of ${entries.length} saved`);
    return queuePage(main, params);
  }

  const rows = res.entries.map((e) => el('tr', { dataset: { id: e.id, tag: e.tag } },
    el('td', {}, el('input', { type: 'checkbox', 'aria-label': `select ${e.tag} on ${e.name}`,
      onchange: (ev) => { if (ev.target.checked) chosen.add(key(e)); else chosen.delete(key(e)); } })),
    el('td', {}, el('img', { class: 'mini', src: `/api/items/${e.id}/thumb`, alt: '', loading: 'lazy' })),
    el('td', { class: 'tagname' }, e.tag),
    el('td', {}, el('meter', { min: 0, max: 1, value: e.confidence }), ` ${e.confidence.toFixed(2)}`),
    el('td', {}, el('a', { href: `#/item/${e.id}` }, e.name)),
    el('td', {}, String(e.tag_items)),
    el('td', {},
      el('button', { class: 'accept', title: 'accept', onclick: () => judge([e], 'accept') }, '✓'),
      el('button', { class: 'reject', title: 'reject', onclick: () => judge([e], 'reject') }, '✗'))));
  const picked = () => res.entries.filter((e) => chosen.has(key(e)));
  fill(main,
    el('h1', {}, 'Review queue', el('span', { class: 'count' }, ` ${res.entries.length} to judge`)),
    tag ? el('p', {}, `Only ${tag}. `, el('a', { href: '#/queue' }, 'All tags')) : null,
    el('div', { class: 'bulk' },
      el('button', { id: 'bulk-accept', onclick: () => judge(picked(), 'accept') }, 'Accept selected'),
      el('button', { id: 'bulk-reject', onclick: () => judge(picked(), 'reject') }, 'Reject selected')),
    res.entries.length
      ? el('table', { class: 'queue', id: 'queue' },
        el('thead', {}, el('tr', {}, ['', '', 'tag', 'confidence', 'item', 'items with tag', ''].map((h) => el('th', {}, h)))),
        el('tbody', {}, rows))
      : el('p', { class: 'empty' }, 'Nothing left to judge.'));
  return null;
}
