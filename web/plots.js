// plots.js - the library in pictures, where a look says more than a table: per tag, how
// confident the models were on the items carrying it, with the threshold in force drawn (a
// pile just above the line is where a threshold is worth fitting); how many tags items get;
// how fast the tagger ran, run by run. Drawn as SVG (no library).
import { get } from './api.js';
import { el, fill } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// A bar chart of values in a w x h box; marker: an x position in 0..1 drawn as a red line.
function bars(values, { w = 220, h = 80, marker = null, title = '', labels = null } = {}) {
  const max = Math.max(1, ...values);
  const bw = w / values.length;
  const g = svg('svg', { viewBox: `0 0 ${w} ${h + 14}`, width: w, height: h + 14, role: 'img', 'aria-label': title, class: 'chart' });
  g.append(svg('title', {}, title));
  values.forEach((v, i) => {
    const bh = (v / max) * h;
    g.append(svg('rect', { x: i * bw + 0.5, y: h - bh, width: Math.max(1, bw - 1), height: bh, class: 'bar' },
      svg('title', {}, labels ? `${labels[i]}: ${v}` : String(v))));
  });
  g.append(svg('line', { x1: 0, y1: h, x2: w, y2: h, class: 'axis' }));
  if (marker !== null) g.append(svg('line', { x1: marker * w, y1: 0, x2: marker * w, y2: h, class: 'threshold' }));
  g.append(svg('text', { x: 0, y: h + 12, class: 'tick' }, labels ? labels[0] : '0'));
  g.append(svg('text', { x: w, y: h + 12, class: 'tick end' }, labels ? labels[labels.length - 1] : '1'));
  return g;
}

export async function plotsPage(main) {
  const s = await get('/api/stats', { tags: 24 });
  const perItem = s.tags_per_item.map((v, k) => v);
  const itemLabels = perItem.map((_, k) => (k === perItem.length - 1 ? `${k}+` : String(k)));
  // throughput: seconds of media analysed per second of the run (x realtime); photos count 1 s
  const timed = s.runs.filter((r) => r.seconds > 0 && r.tagged > 0);
  const speed = timed.map((r) => Math.round((10 * (r.media_seconds || r.tagged)) / r.seconds) / 10);
  fill(main,
    el('h1', {}, 'Plots'),
    el('h2', {}, 'Confidence per tag, with the threshold in force'),
    s.tags.length ? el('div', { class: 'charts', id: 'tag-charts' }, s.tags.map((t) =>
      el('figure', { class: 'tagchart', dataset: { tag: t.name } },
        bars(t.bins, { marker: t.threshold, title: `${t.name}: confidence of its ${t.items} items` }),
        el('figcaption', {}, el('strong', {}, t.name), ` ${t.items} items · threshold ${t.threshold.toFixed(2)}${t.learned ? ' (learned)' : ''}` +
          (t.accepted || t.rejected ? ` · ${t.accepted} ✓ ${t.rejected} ✗` : '')))))
      : el('p', { class: 'empty' }, 'No tags yet.'),
    el('h2', {}, 'Tags per item'),
    el('figure', { id: 'per-item' }, bars(perItem, { w: 440, h: 100, title: 'items by number of tags', labels: itemLabels }),
      el('figcaption', {}, 'items (height) by how many tags they have (left to right)')),
    el('h2', {}, 'Throughput, run by run'),
    speed.length ? el('figure', { id: 'throughput' }, bars(speed, { w: 440, h: 100, title: 'times realtime per run',
      labels: timed.map((r) => `run ${r.id}`) }),
    el('figcaption', {}, `times realtime (media seconds analysed per second) in each of the last ${speed.length} runs that tagged something; the highest ${Math.max(...speed)}x`))
      : el('p', { class: 'empty' }, 'No run has tagged anything yet.'));
  return null;
}
