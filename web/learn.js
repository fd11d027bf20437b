// learn.js - thresholds learned from your decisions. For every label with enough judged items
// the server fits the threshold that agrees best with them (F1) and says what it would change;
// nothing changes until you accept one. Precision and recall "held out" are measured on
// decisions the fit did not see (two folds), so they tell whether the change generalises.
import { get, post } from './api.js';
import { el, toast, fill } from './dom.js';

const pct = (v) => (v === null || v === undefined ? '–' : `${Math.round(v * 100)}%`);

function change(f) {
  if (!f.gained && !f.lost) return 'no item would change';
  const parts = [];
  if (f.gained) parts.push(`${f.gained} more items`);
  if (f.lost) parts.push(`${f.lost} fewer items`);
  const why = [];
  if (f.false_dropped) why.push(`${f.false_dropped} you rejected`);
  if (f.true_dropped) why.push(`${f.true_dropped} you accepted`);
  return parts.join(', ') + (why.length ? ` (${why.join(', ')})` : '');
}

export async function learnPage(main, params) {
  const min = params.get('min') || 5;
  const [res, rules] = await Promise.all([get('/api/thresholds', { min }),
    get('/api/rules', { min: params.get('rules') || 3 })]);
  const learned = new Map(res.learned.map((l) => [l.label, l]));

  async function act(body, what) {
    try {
      const r = await post('/api/thresholds', body);
      toast(`${what}: ${r.rederived} items re-derived`);
      return learnPage(main, params);
    } catch (e) {
      toast(`${what}: ${e.message}`, true);
      return null;
    }
  }

  const rows = res.fits.map((f) => {
    const same = Math.abs(f.proposed - f.current) < 1e-6;
    return el('tr', { dataset: { label: f.label } },
      el('td', { class: 'tagname' }, f.label),
      el('td', {}, `${f.current.toFixed(2)} → `, el('strong', { class: 'proposed' }, f.proposed.toFixed(2))),
      el('td', {}, `${f.decided} (${f.accepted} ✓, ${f.rejected} ✗)`),
      el('td', {}, `${f.f1_current.toFixed(2)} → ${f.f1_proposed.toFixed(2)}`),
      el('td', { class: 'change' }, change(f)),
      el('td', {}, `P ${pct(f.held_out.precision_current)} → ${pct(f.held_out.precision_fitted)}, ` +
        `R ${pct(f.held_out.recall_current)} → ${pct(f.held_out.recall_fitted)}`),
      el('td', {}, el('button', { class: 'accept learn', disabled: same,
        title: same ? 'the decisions agree with the threshold in force' : 'use this threshold from now on',
        onclick: () => act({ label: f.label, action: 'learn', threshold: f.proposed }, `learn ${f.label}`) },
      same ? 'No change' : 'Accept')));
  });
  fill(main,
    el('h1', {}, 'Learning'),
    el('p', { class: 'meta' }, `Thresholds fitted to your accepts and rejects (labels with at least ${min} judged items).`),
    rows.length
      ? el('table', { class: 'fits', id: 'fits' },
        el('thead', {}, el('tr', {}, ['label', 'threshold', 'decisions', 'F1', 'what changes', 'held out', ''].map((h) => el('th', {}, h)))),
        el('tbody', {}, rows))
      : el('p', { class: 'empty' }, 'Not enough decisions yet: judge more tags in the review queue.'),
    el('h2', {}, 'Proposed context rules'),
    rules.proposals.length
      ? el('ul', { class: 'proposals', id: 'proposals' }, rules.proposals.map((p) =>
        el('li', { dataset: { label: p.label, context: p.context } },
          el('strong', {}, `no ${p.label} ${p.unless ? 'without' : 'with'} ${p.context}`),
          ` explains ${p.rejected_explained} of your rejections, removes none you accepted; ` +
            `it would take ${p.label} off ${p.library_items} items of the library. Add to the "suppress" ` +
            'list of ~/.config/aitag/context.json:',
          el('pre', { class: 'rule' }, JSON.stringify(p.rule)))))
      : el('p', { class: 'empty' }, 'No rule explains your rejections yet.'),
    el('h2', {}, 'Learned'),
    learned.size
      ? el('ul', { class: 'learned', id: 'learned' }, [...learned.values()].map((l) =>
        el('li', { dataset: { label: l.label } },
          `${l.label}: ${l.previous.toFixed(2)} → ${l.threshold.toFixed(2)} (by ${l.who}) `,
          el('button', { class: 'forget', onclick: () => act({ label: l.label, action: 'forget' }, `undo ${l.label}`) }, 'Undo'))))
      : el('p', { class: 'empty' }, 'No threshold learned yet.'));
  return null;
}
