// people.js - the people the face clustering found: name them (the name becomes the tag
// person:NAME on their media), merge two found twice, split out faces that are someone else,
// ignore a person. Every change is the catalog's (the same as `aitag people`), and the media
// it touches are re-derived at once.
import { get, post } from './api.js';
import { el, toast, fill, clock } from './dom.js';

const label = (p) => p.name || `Person ${p.id}`;

export async function peoplePage(main, params) {
  const showIgnored = params.get('ignored') === '1';
  const res = await get('/api/people', { ignored: showIgnored ? 1 : '' });
  fill(main,
    el('h1', {}, 'People', el('span', { class: 'count' }, ` ${res.people.length}`)),
    el('p', { class: 'meta' }, showIgnored ? el('a', { href: '#/people' }, 'Hide ignored people')
      : el('a', { href: '#/people?ignored=1' }, 'Show ignored people')),
    res.people.length
      ? el('div', { class: 'grid people', id: 'people' }, res.people.map((p) =>
        el('a', { class: `tile person${p.ignored ? ' ignored' : ''}`, href: `#/people/${p.id}`, dataset: { person: p.id } },
          p.cover ? el('img', { src: `/api/faces/${p.cover}/crop`, alt: '', loading: 'lazy' }) : el('div', { class: 'noface' }),
          el('span', { class: 'name' }, label(p)),
          el('span', { class: 'meta' }, `${p.faces} faces${p.ignored ? ' · ignored' : ''}`))))
      : el('p', { class: 'empty' }, 'No people yet: tag media with the face_attrs analyzer.'));
  return null;
}

export async function personPage(main, id) {
  const res = await get(`/api/people/${id}`);
  const p = res.person;
  const chosen = new Set();

  async function change(body, what, then) {
    try {
      const r = await post(`/api/people/${id}`, body);
      toast(`${what}: saved`);
      if (then) then(r); else personPage(main, id);
    } catch (e) {
      toast(`${what}: ${e.message}`, true);
    }
  }

  const name = el('input', { id: 'person-name', value: p.name || '', placeholder: 'Name', 'aria-label': 'name' });
  const mergeIds = el('input', { id: 'merge-ids', placeholder: 'ids, e.g. 4 7', 'aria-label': 'people to merge into this one' });
  fill(main,
    el('h1', {}, label(p), p.ignored ? el('span', { class: 'count' }, ' ignored') : null),
    el('p', { class: 'meta' }, `${p.faces} faces`),
    el('form', { class: 'inline', id: 'name-form', onsubmit: (ev) => {
      ev.preventDefault();
      change({ action: 'name', name: name.value.trim() }, `name ${name.value.trim()}`);
    } }, name, el('button', { type: 'submit', id: 'name-save' }, 'Save name')),
    el('form', { class: 'inline', onsubmit: (ev) => {
      ev.preventDefault();
      const ids = mergeIds.value.split(/[\s,]+/).filter(Boolean).map(Number);
      change({ action: 'merge', ids }, `merge ${ids.join(', ')}`);
    } }, mergeIds, el('button', { type: 'submit' }, 'Merge into this person')),
    el('p', {},
      el('button', { id: 'split', onclick: () => change({ action: 'split', faces: [...chosen] }, 'split',
        (r) => { location.hash = `#/people/${r.new_id}`; }) }, 'Split selected faces into a new person'), ' ',
      el('button', { id: 'ignore', onclick: () => change({ action: p.ignored ? 'unignore' : 'ignore' }, p.ignored ? 'unignore' : 'ignore') },
        p.ignored ? 'Show again' : 'Ignore this person')),
    el('div', { class: 'grid faces', id: 'faces' }, res.faces.map((f) =>
      el('label', { class: 'face', dataset: { face: f.id } },
        el('img', { src: `/api/faces/${f.id}/crop`, alt: '', loading: 'lazy' }),
        el('input', { type: 'checkbox', onchange: (ev) => { if (ev.target.checked) chosen.add(f.id); else chosen.delete(f.id); } }),
        el('a', { href: `#/item/${f.item}` }, `${f.name} ${clock(f.t)}`),
        el('span', { class: 'meta' }, `quality ${f.quality >= 0 ? f.quality.toFixed(2) : '–'} · ${f.assigned}`)))));
  return null;
}
