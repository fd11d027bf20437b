// aitag.js - "Tag with AI" buttons for Stash's UI: on scene and image pages, and on the scene
// and image lists when cards are selected. A click queues a plugin job (runPluginTask with
// args {mode: "scene"|"image", ids}) and shows a toast; the job's progress is on Stash's Tasks
// page like any other. No task_name is sent, so the job runs with exactly these arguments.
(function () {
  "use strict";

  const PLUGIN_ID = "aitag";
  const RUN_TASK =
    "mutation AitagRunTask($plugin_id: ID!, $description: String, $args_map: Map) {" +
    " runPluginTask(plugin_id: $plugin_id, description: $description, args_map: $args_map) }";

  function graphql(query, variables) {
    // Same origin, same session cookie as the UI itself; honours a <base href> prefix.
    const url = new URL("graphql", document.baseURI).toString();
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: query, variables: variables }),
    })
      .then((r) =>
        // Stash answers 401 with an empty body when the session has expired, and a proxy or a
        // failing server may answer with text: say which HTTP status it was, not a JSON error.
        r.text().then((text) => {
          let body = null;
          try {
            body = JSON.parse(text);
          } catch (e) {
            /* not JSON */
          }
          if (body && body.errors && body.errors.length) throw new Error(body.errors[0].message);
          if (!r.ok || !body) {
            const why = r.status === 401 ? " (not logged in: reload the page)" : "";
            throw new Error("HTTP " + r.status + (r.statusText ? " " + r.statusText : "") + why);
          }
          return body.data;
        }),
      );
  }

  function toast(text, failed) {
    let box = document.querySelector(".aitag-toasts");
    if (!box) {
      box = document.createElement("div");
      box.className = "aitag-toasts";
      document.body.appendChild(box);
    }
    const t = document.createElement("div");
    t.className = "toast show aitag-toast" + (failed ? " aitag-toast-error" : "");
    t.setAttribute("role", "status");
    const body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = text;
    t.appendChild(body);
    box.appendChild(t);
    setTimeout(() => t.remove(), failed ? 8000 : 4000);
  }

  function tagWithAI(kind, ids, button) {
    if (!ids.length) return;
    const what = ids.length === 1 ? kind + " " + ids[0] : ids.length + " " + kind + "s";
    if (button) button.disabled = true;
    graphql(RUN_TASK, {
      plugin_id: PLUGIN_ID,
      description: "Tag with AI: " + what,
      args_map: { mode: kind, ids: ids },
    })
      .then(() => toast("aitag: job started for " + what + " (see Settings > Tasks)"))
      .catch((e) => toast("aitag: could not start the job: " + e.message, true))
      .finally(() => {
        if (button) button.disabled = false;
      });
  }

  function makeButton(label, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-secondary aitag-button";
    b.title = "Tag with AI (aitag)";
    b.textContent = label;
    b.addEventListener("click", (e) => {
      e.preventDefault();
      e.stopPropagation();
      onClick(b);
    });
    return b;
  }

  // /scenes/12 or /images/34 (with an optional base prefix and query string).
  function detailPage() {
    const m = window.location.pathname.match(/\/(scenes|images)\/(\d+)\/?$/);
    return m ? { kind: m[1] === "scenes" ? "scene" : "image", id: m[2] } : null;
  }

  function listKind() {
    const m = window.location.pathname.match(/\/(scenes|images)\/?$/);
    return m ? (m[1] === "scenes" ? "scene" : "image") : null;
  }

  function selectedIds(kind) {
    const ids = [];
    document.querySelectorAll("." + kind + "-card input.card-check:checked").forEach((c) => {
      const card = c.closest("." + kind + "-card");
      const link = card && card.querySelector('a[href*="/' + kind + 's/"]');
      const m = link && link.getAttribute("href").match(/\/(?:scenes|images)\/(\d+)/);
      if (m && ids.indexOf(m[1]) < 0) ids.push(m[1]);
    });
    return ids;
  }

  function update() {
    const page = detailPage();
    if (page) {
      const bar = document.querySelector("." + page.kind + "-toolbar");
      const old = bar && bar.querySelector(".aitag-button");
      if (bar && (!old || old.dataset.id !== page.id)) {
        if (old) (old.closest(".aitag-group") || old).remove();
        const b = makeButton("Tag with AI", (btn) => tagWithAI(page.kind, [page.id], btn));
        b.dataset.id = page.id;
        b.classList.add("minimal");
        const group = document.createElement("span");
        group.className = page.kind + "-toolbar-group aitag-group";
        group.appendChild(b);
        bar.appendChild(group);
      }
    }
    const kind = listKind();
    const toolbar = document.querySelector(".filtered-list-toolbar");
    const existing = document.querySelector(".aitag-list-button");
    const wanted = kind && toolbar && toolbar.classList.contains("has-selection");
    if (!wanted && existing) existing.remove();
    if (wanted && !existing) {
      const b = makeButton("Tag with AI", (btn) => tagWithAI(kind, selectedIds(kind), btn));
      b.classList.add("aitag-list-button");
      toolbar.appendChild(b);
    }
  }

  // The UI is a single-page app: re-check on navigation and when React re-renders.
  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(() => {
      pending = false;
      update();
    });
  }
  if (window.PluginApi && window.PluginApi.Event) {
    window.PluginApi.Event.addEventListener("stash:location", schedule);
  }
  new MutationObserver(schedule).observe(document.body, { childList: true, subtree: true });
  schedule();
})();
