// app.js - the review app's router: one page per hash route, drawn into <main>.
//   #/                 the library grid (#/?q=WORDS&tag=NAME&page=N)
//   #/item/ID          one item: player, marker timeline, tags and markers to judge
//   #/queue            tags not judged yet, most useful first
//   #/log              every decision made
//   #/learn            thresholds fitted to the decisions, to accept or undo
//   #/jobs             tagging jobs: start, watch live, stop
//   #/people, #/people/ID  the people found: name, merge, split, ignore
//   #/plots            confidence per tag with its threshold, tags per item, throughput
import { getSession, forgetSession, post } from './api.js';
import { el, toast, fill } from './dom.js';
import { libraryPage, libraryData } from './library.js';
import { itemPage } from './item.js';
import { queuePage } from './queue.js';
import { logPage } from './log.js';
import { learnPage } from './learn.js';
import { jobsPage } from './jobs.js';
import { peoplePage, personPage } from './people.js';
import { plotsPage } from './plots.js';

const main = document.getElementById('main');
let leave = null; // the current page's cleanup (key handlers)

function parseHash() {
  const h = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = h.split('?');
  return { path, params: new URLSearchParams(query) };
}

async function loginPage() {
  const input = el('input', { type: 'password', id: 'password', autocomplete: 'current-password' });
  const form = el('form', { class: 'login', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      await post('/api/login', { password: input.value });
      forgetSession();
      route();
    } catch (e) {
      toast(e.message, true);
    }
  } }, el('label', { for: 'password' }, 'Password'), input, el('button', { type: 'submit' }, 'Log in'));
  fill(main, el('h1', {}, 'Log in'), form);
  input.focus();
}

async function route() {
  if (leave) { leave(); leave = null; }
  const { path, params } = parseHash();
  const known = /^\/(item|people|queue|log|learn|jobs|plots)\b/.test(path);
  // the library's page is asked for beside the session: one round trip less on first paint
  const [s, data] = await Promise.all([getSession().catch(() => null),
    known ? null : libraryData(params).catch(() => null)]);
  if (s && !s.authenticated) return loginPage();
  document.querySelectorAll('[data-nav]').forEach((a) => {
    const on = (a.dataset.nav === 'library' && path === '/') || path.startsWith(`/${a.dataset.nav}`);
    a.classList.toggle('current', on);
  });
  document.getElementById('search-q').value = params.get('q') || '';
  const m = path.match(/^\/item\/(\d+)$/);
  const pm = path.match(/^\/people\/(\d+)$/);
  try {
    if (m) leave = await itemPage(main, Number(m[1]));
    else if (path === '/queue') leave = await queuePage(main, params);
    else if (path === '/log') leave = await logPage(main);
    else if (path === '/learn') leave = await learnPage(main, params);
    else if (path === '/jobs') leave = await jobsPage(main);
    else if (pm) leave = await personPage(main, Number(pm[1]));
    else if (path === '/people') leave = await peoplePage(main, params);
    else if (path === '/plots') leave = await plotsPage(main);
    else leave = await libraryPage(main, params, data);
  } catch (e) {
    fill(main, el('p', { class: 'error' }, e.message));
  }
}

document.getElementById('search').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const q = document.getElementById('search-q').value.trim();
  location.hash = q ? `#/?q=${encodeURIComponent(q)}` : '#/';
});
window.addEventListener('hashchange', route);
route();
