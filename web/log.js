// log.js - every decision made, newest first: what, on which item, by whom, through what.
import { get } from './api.js';
import { el, clock, fill } from './dom.js';

export async function logPage(main) {
  const res = await get('/api/decisions', { limit: 500 });
  fill(main,
    el('h1', {}, 'Decisions', el('span', { class: 'count' }, ` ${res.decisions.length}`)),
    res.decisions.length ? el('table', { class: 'log', id: 'log' },
      el('thead', {}, el('tr', {}, ['when', 'who', 'via', 'verdict', 'tag', 'item'].map((h) => el('th', {}, h)))),
      el('tbody', {}, res.decisions.map((d) => el('tr', {},
        el('td', {}, new Date(d.at * 1000).toLocaleString()),
        el('td', {}, d.who), el('td', {}, d.source), el('td', {}, d.verdict),
        el('td', {}, d.tag + (d.marker ? ` ${clock(d.marker[0])}–${clock(d.marker[1])}` : '') +
          (d.new_tag ? ` → ${d.new_tag}` : '') + (d.new_bounds ? ` → ${clock(d.new_bounds[0])}–${clock(d.new_bounds[1])}` : '')),
        el('td', {}, el('a', { href: `#/item/${d.item}` }, d.name))))))
      : el('p', { class: 'empty' }, 'No decisions yet.'));
  return null;
}
