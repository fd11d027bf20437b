// item.js - one item: the player, a marker timeline per tag, and the tags and markers to judge.
//
// The timeline has one row per tag; a marker is a bar from its start to its end. Clicking a
// bar selects the marker and seeks the player to it; dragging either edge of a selected bar
// moves that edge (a "bounds" decision when released). Keys, on the selected marker:
// a accept, x or Delete reject, [ and ] move its start or end to the player's time; space
// plays or pauses, the arrows seek 5 s. Every decision is sent at once and the page is drawn
// again from the server's answer: what is shown is what the catalog now holds.
import { get, decide } from './api.js';
import { el, clock, toast, fill } from './dom.js';

export async function itemPage(main, id) {
  let item = await get(`/api/items/${id}`);
  let selected = null; // {tag, start, end}
  let player = null;

  const duration = () => item.duration || (player && player.duration) || 1;
  const pct = (t) => `${Math.max(0, Math.min(100, (100 * t) / duration()))}%`;

  async function send(decision, what) {
    try {
      const res = await decide(id, decision);
      item = res.item;
      if (selected && decision.verdict === 'bounds')
        selected = { tag: selected.tag, start: decision.new_start, end: decision.new_end };
      else if (selected && decision.verdict === 'reject')
        selected = null;
      toast(`${what}: saved`);
      draw();
    } catch (e) {
      toast(`${what}: ${e.message}`, true);
    }
  }

  const markerId = (m) => `${m.tag}@${m.start.toFixed(2)}`;
  const isSelected = (m) => selected && selected.tag === m.tag &&
    Math.abs(selected.start - m.start) < 0.01 && Math.abs(selected.end - m.end) < 0.01;

  function seek(t) {
    if (player && player.tagName === 'VIDEO') player.currentTime = t;
  }

  function select(m) {
    selected = { tag: m.tag, start: m.start, end: m.end };
    seek(m.start);
    draw();
  }

  function markerDecision(verdict, m, extra = {}) {
    return send({ verdict, tag: m.tag, start: m.start, end: m.end, ...extra },
      `${verdict} ${m.tag} ${clock(m.start)}–${clock(m.end)}`);
  }

  function dragEdge(ev, m, edge, track) {
    ev.preventDefault();
    ev.stopPropagation();
    const rect = track.getBoundingClientRect();
    const bar = ev.target.parentElement;
    let start = m.start, end = m.end;
    const move = (e) => {
      const t = Math.max(0, Math.min(duration(), ((e.clientX - rect.left) / rect.width) * duration()));
      if (edge === 'start') start = Math.min(t, end - 0.1);
      else end = Math.max(t, start + 0.1);
      bar.style.left = pct(start);
      bar.style.width = `${(100 * (end - start)) / duration()}%`;
      bar.title = `${m.tag} ${clock(start)}–${clock(end)}`;
    };
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      if (start !== m.start || end !== m.end)
        markerDecision('bounds', m, { new_start: Number(start.toFixed(2)), new_end: Number(end.toFixed(2)) });
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  }

  function timeline() {
    const byTag = new Map();
    for (const m of item.markers) {
      if (!byTag.has(m.tag)) byTag.set(m.tag, []);
      byTag.get(m.tag).push(m);
    }
    const rows = [...byTag.entries()].map(([tag, ms]) => {
      const track = el('div', { class: 'track' });
      for (const m of ms) {
        const bar = el('div', {
          class: `bar${isSelected(m) ? ' selected' : ''}`,
          title: `${m.tag} ${clock(m.start)}–${clock(m.end)} (${m.confidence.toFixed(2)})`,
          dataset: { marker: markerId(m) },
          onclick: () => select(m),
        });
        bar.style.left = pct(m.start);
        bar.style.width = `${(100 * (m.end - m.start)) / duration()}%`;
        if (isSelected(m)) {
          bar.append(el('span', { class: 'edge start', dataset: { edge: 'start' },
            onpointerdown: (ev) => dragEdge(ev, m, 'start', track) }));
          bar.append(el('span', { class: 'edge end', dataset: { edge: 'end' },
            onpointerdown: (ev) => dragEdge(ev, m, 'end', track) }));
        }
        track.append(bar);
      }
      return el('div', { class: 'row' }, el('span', { class: 'label' }, tag), track);
    });
    const head = el('div', { class: 'playhead', id: 'playhead' });
    return el('div', { class: 'timeline', id: 'timeline' }, rows.length ? rows : el('p', { class: 'empty' }, 'No markers.'), head);
  }

  function tagRow(t) {
    const name = el('span', { class: 'tagname' }, t.name);
    const rename = () => {
      const input = el('input', { class: 'rename', value: t.name, 'aria-label': `new name for ${t.name}` });
      const form = el('form', { onsubmit: (ev) => {
        ev.preventDefault();
        const v = input.value.trim();
        if (v && v !== t.name) send({ verdict: 'rename', tag: t.name, new_tag: v }, `rename ${t.name}`);
        else draw();
      } }, input, el('button', { type: 'submit' }, 'Save'));
      name.replaceWith(form);
      input.focus();
      input.select();
    };
    return el('li', { class: `tag ${t.verdict || ''}`, dataset: { tag: t.name } },
      name,
      t.verdict ? el('span', { class: 'badge' }, t.verdict) : null,
      el('meter', { min: 0, max: 1, value: t.confidence, title: `confidence ${t.confidence.toFixed(2)}` }),
      el('span', { class: 'conf' }, t.confidence.toFixed(2)),
      el('button', { class: 'accept', title: 'accept', onclick: () => send({ verdict: 'accept', tag: t.name }, `accept ${t.name}`) }, '✓'),
      el('button', { class: 'reject', title: 'reject', onclick: () => send({ verdict: 'reject', tag: t.name }, `reject ${t.name}`) }, '✗'),
      el('button', { class: 'rename-btn', title: 'rename', onclick: rename }, '✎'));
  }

  function markerRow(m) {
    return el('li', { class: `marker${isSelected(m) ? ' selected' : ''}`, dataset: { marker: markerId(m) } },
      el('button', { class: 'time', onclick: () => select(m) }, `${clock(m.start)}–${clock(m.end)}`),
      el('span', { class: 'tagname' }, m.tag),
      el('button', { class: 'accept', title: 'accept', onclick: () => markerDecision('accept', m) }, '✓'),
      el('button', { class: 'reject', title: 'reject', onclick: () => markerDecision('reject', m) }, '✗'));
  }

  function draw() {
    const keepTime = player && player.tagName === 'VIDEO' ? player.currentTime : null;
    if (!player) {
      player = item.kind === 'video'
        ? el('video', { id: 'player', src: `/api/items/${id}/media`, controls: true, preload: 'metadata' })
        : el('img', { id: 'player', src: `/api/items/${id}/media`, alt: item.name });
      if (player.tagName === 'VIDEO') {
        player.addEventListener('timeupdate', () => {
          const h = document.getElementById('playhead');
          if (h) h.style.left = `calc(9rem + (100% - 9.5rem) * ${player.currentTime / duration()})`;
          const t = document.getElementById('now');
          if (t) t.textContent = clock(player.currentTime);
        });
      }
    }
    const sel = selected ? el('p', { class: 'selection', id: 'selection' },
      `Selected: ${selected.tag} ${clock(selected.start)}–${clock(selected.end)} · `,
      el('kbd', {}, 'a'), ' accept ', el('kbd', {}, 'x'), ' reject ',
      el('kbd', {}, '['), el('kbd', {}, ']'), ' start/end at ', el('span', { id: 'now' }, clock(keepTime || 0)))
      : el('p', { class: 'selection hint' }, 'Click a marker to select it; drag its edges to move them.');
    fill(main,
      el('h1', { title: item.path }, item.name),
      el('p', { class: 'meta' }, `${item.kind} · ${item.width}×${item.height}` + (item.kind === 'video' ? ` · ${clock(item.duration)}` : '')),
      el('div', { class: 'item' },
        el('section', { class: 'media' }, player, item.kind === 'video' ? timeline() : null, item.kind === 'video' ? sel : null),
        el('section', { class: 'judge' },
          el('h2', {}, 'Tags'),
          el('ul', { class: 'tags', id: 'tags' }, item.tags.map(tagRow)),
          item.markers.length ? [el('h2', {}, 'Markers'), el('ul', { class: 'markers', id: 'markers' }, item.markers.map(markerRow))] : null,
          item.texts.length ? [el('h2', {}, 'Text'), el('ul', { class: 'texts' }, item.texts.map((x) =>
            el('li', {}, el('button', { class: 'time', onclick: () => seek(x.start) }, clock(x.start)), ` ${x.text}`)))] : null,
          item.description ? [el('h2', {}, 'Description'), el('p', {}, item.description)] : null,
          item.decisions.length ? [el('h2', {}, 'Decisions'), el('ol', { class: 'decisions', id: 'decisions' }, item.decisions.map((d) =>
            el('li', {}, `${d.verdict} ${d.tag}` + (d.marker ? ` ${clock(d.marker[0])}–${clock(d.marker[1])}` : '') +
              (d.new_tag ? ` → ${d.new_tag}` : '') + (d.new_bounds ? ` → ${clock(d.new_bounds[0])}–${clock(d.new_bounds[1])}` : '') +
              ` · ${d.who} · ${d.source}`)))] : null)));
  }

  function onKey(ev) {
    if (ev.target.closest('input, textarea')) return;
    const video = player && player.tagName === 'VIDEO' ? player : null;
    if (ev.key === ' ' && video) {
      ev.preventDefault();
      if (video.paused) video.play(); else video.pause();
    } else if (ev.key === 'ArrowLeft' && video) {
      video.currentTime = Math.max(0, video.currentTime - 5);
    } else if (ev.key === 'ArrowRight' && video) {
      video.currentTime = Math.min(duration(), video.currentTime + 5);
    } else if (selected) {
      const m = item.markers.find(isSelected);
      if (!m) return;
      if (ev.key === 'a') markerDecision('accept', m);
      else if (ev.key === 'x' || ev.key === 'Delete') markerDecision('reject', m);
      else if ((ev.key === '[' || ev.key === ']') && video) {
        const t = Number(video.currentTime.toFixed(2));
        const ns = ev.key === '[' ? t : m.start, ne = ev.key === ']' ? t : m.end;
        if (ne > ns) markerDecision('bounds', m, { new_start: ns, new_end: ne });
        else toast('the end would be before the start', true);
      }
    }
  }

  draw();
  window.addEventListener('keydown', onKey);
  return () => window.removeEventListener('keydown', onKey);
}
