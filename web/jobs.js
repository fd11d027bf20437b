// jobs.js - tagging jobs: start one on files or folders, watch it live (Server-Sent Events
// from /api/jobs/ID/events), stop it. A stopped job finishes the item in flight; running the
// same paths again does the rest (unchanged files are skipped).
import { get, post } from './api.js';
import { el, toast, fill, clock } from './dom.js';

function fraction(j) {
  const p = j.progress;
  if (j.state !== 'running') return 1;
  if (!p) return 0;
  if (p.media_total > 0) return Math.min(1, p.media_done / p.media_total);
  return p.total ? p.done / p.total : 0;
}

function jobRow(j, onStop) {
  const p = j.progress || {};
  const row = el('li', { class: `job ${j.state}`, dataset: { job: j.id, state: j.state } },
    el('div', { class: 'jobhead' },
      el('strong', {}, `Job ${j.id}`), ' ',
      el('span', { class: 'state' }, j.state), ' · ',
      el('span', { class: 'items' }, `${j.items} items${j.failed ? `, ${j.failed} failed` : ''}`),
      p.total !== undefined ? ` of ${p.total}` : '',
      j.state === 'running' && p.eta >= 0 ? ` · ETA ${clock(p.eta)}` : '',
      j.state === 'running' ? el('button', { class: 'stop', onclick: onStop }, 'Stop') : null),
    el('progress', { max: 1, value: fraction(j) }),
    el('div', { class: 'meta' }, `${j.paths.join(', ')}${j.analyzers ? ` · ${j.analyzers}` : ''}`),
    j.message ? el('div', { class: 'meta message' }, j.message) : null);
  return row;
}

export async function jobsPage(main) {
  const streams = [];
  const paths = el('textarea', { id: 'job-paths', rows: 3, placeholder: '/path/to/videos (one per line)' });
  const analyzers = el('input', { id: 'job-analyzers', placeholder: 'analyzers (default: as aitag tag)' });
  const list = el('ul', { class: 'jobs', id: 'jobs' });

  function watch(j) {
    const src = new EventSource(`/api/jobs/${j.id}/events`);
    streams.push(src);
    const update = (ev) => {
      const now = JSON.parse(ev.data);
      const old = list.querySelector(`li[data-job="${now.id}"]`);
      const row = jobRow(now, () => stop(now.id));
      if (old) old.replaceWith(row); else list.prepend(row);
    };
    src.addEventListener('progress', update);
    src.addEventListener('end', (ev) => { update(ev); src.close(); });
  }

  async function stop(id) {
    try {
      await post(`/api/jobs/${id}/stop`, {});
      toast(`job ${id}: stopping after the item in flight`);
    } catch (e) {
      toast(e.message, true);
    }
  }

  async function start(ev) {
    ev.preventDefault();
    const body = { paths: paths.value.split('\n').map((s) => s.trim()).filter(Boolean) };
    if (analyzers.value.trim()) body.analyzers = analyzers.value.trim();
    try {
      const r = await post('/api/jobs', body);
      toast(`job ${r.id} started`);
      watch({ id: r.id });
    } catch (e) {
      toast(e.message, true);
    }
  }

  const res = await get('/api/jobs');
  for (const j of res.jobs) {
    list.append(jobRow(j, () => stop(j.id)));
    if (j.state === 'running') watch(j);
  }
  fill(main,
    el('h1', {}, 'Jobs'),
    el('form', { class: 'jobform', id: 'job-form', onsubmit: start },
      el('label', { for: 'job-paths' }, 'Files or folders to tag'), paths,
      el('label', { for: 'job-analyzers' }, 'Analyzers'), analyzers,
      el('button', { type: 'submit', id: 'job-start' }, 'Start')),
    list);
  return () => streams.forEach((s) => s.close());
}
