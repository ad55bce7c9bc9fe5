// tripline dashboard. Plain script, no dependencies, no build step.
//
// Everything shown here from logs (users, hosts, evidence lines, explanations) is written by
// attackers. It only ever reaches the page as text: `el()` sets textContent, attributes are set
// one by one, and links are built from checked values. Nothing here parses HTML.
"use strict";

const SEVERITIES = ["critical", "high", "medium", "low", "info"];
const FEED_MAX = 200;
const ATTACK = "https://attack.mitre.org/";

// ---------- DOM helpers (text only) ----------

/** An element with attributes and children; strings become text nodes. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

const $ = (id) => document.getElementById(id);

/** A severity name we know, else "info" (never an attacker's class name). */
function sev(s) {
  return SEVERITIES.includes(s) ? s : "info";
}

function when(ts) {
  const d = new Date(ts);
  return isNaN(d) ? String(ts) : d.toLocaleString();
}

function clock(ts) {
  const d = new Date(ts);
  return isNaN(d) ? String(ts) : d.toLocaleTimeString();
}

function entityLink(value) {
  return el("a", { href: "#/entity/" + encodeURIComponent(value), class: "mono" }, value);
}

/** An ATT&CK link only when the server's URL really points there. */
function techniqueLink(t) {
  const label = t.name ? `${t.id} ${t.name}` : t.id;
  if (typeof t.url === "string" && t.url.startsWith(ATTACK)) {
    return el("a", { href: t.url, rel: "noreferrer noopener", target: "_blank" }, label);
  }
  return el("span", {}, label);
}

// ---------- API ----------

async function api(path, method, body) {
  const opts = { method: method || "GET", credentials: "same-origin", headers: {} };
  if (opts.method !== "GET") {
    opts.headers["X-Tripline-CSRF"] = "1";
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body || {});
  }
  const r = await fetch(path, opts);
  if (r.status === 401) {
    location.href = "/login";
    throw new Error("signed out");
  }
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

function failed(node, err) {
  clear(node).append(el("p", { class: "error" }, "Could not load: " + err.message));
}

// ---------- overview ----------

async function loadOverview() {
  const [stats, ents, sensors] = await Promise.allSettled([
    api("/api/v1/stats?since=24h&bucket=1h"),
    api("/api/v1/entities?since=24h&limit=10"),
    api("/api/v1/sensors"),
  ]);
  if (stats.status === "fulfilled") {
    renderTiles(stats.value);
    renderChart(stats.value);
    renderTechniques(stats.value);
  } else failed($("tiles"), stats.reason);
  if (ents.status === "fulfilled") renderEntities(ents.value.entities || []);
  else failed($("entities"), ents.reason);
  if (sensors.status === "fulfilled") renderSensors(sensors.value.sensors || []);
  else failed($("sensors"), sensors.reason);
}

function renderTiles(stats) {
  const totals = { total: 0 };
  for (const s of SEVERITIES) totals[s] = 0;
  for (const b of stats.buckets || []) {
    totals.total += b.total || 0;
    for (const s of SEVERITIES) totals[s] += (b.by_severity || {})[s] || 0;
  }
  const tiles = clear($("tiles"));
  tiles.append(el("div", { class: "tile" }, el("b", {}, totals.total), el("span", {}, "alerts")));
  for (const s of SEVERITIES) {
    tiles.append(el("div", { class: "tile" }, el("b", { class: "sev sev-" + s }, totals[s]), el("span", {}, s)));
  }
}

function renderChart(stats) {
  const chart = clear($("chart"));
  const W = 720, H = 150, left = 34, hours = 24;
  const step = (stats.bucket_seconds || 3600) * 1000;
  const end = Math.floor(Date.now() / step) * step;
  const start = end - (hours - 1) * step;
  const byStart = new Map();
  for (const b of stats.buckets || []) byStart.set(Date.parse(b.start), b);
  let max = 1;
  for (const b of byStart.values()) max = Math.max(max, b.total || 0);
  const bw = (W - left) / hours;
  chart.append(svg("line", { x1: left, y1: H, x2: W, y2: H }));
  chart.append(svg("text", { x: left - 4, y: 10, "text-anchor": "end" }, String(max)));
  chart.append(svg("text", { x: left - 4, y: H, "text-anchor": "end" }, "0"));
  for (let i = 0; i < hours; i++) {
    const t = start + i * step;
    const b = byStart.get(t);
    const x = left + i * bw + 1;
    if (i % 6 === 0) {
      const label = new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      chart.append(svg("text", { x, y: H + 14 }, label));
    }
    if (!b) continue;
    let y = H;
    for (const s of [...SEVERITIES].reverse()) {
      const n = (b.by_severity || {})[s] || 0;
      if (!n) continue;
      const h = Math.max(1, (n / max) * (H - 6));
      y -= h;
      const rect = svg("rect", { x, y, width: Math.max(1, bw - 2), height: h, class: "bar-" + s });
      rect.append(svg("title", {}, `${new Date(t).toLocaleString()}: ${n} ${s}`));
      chart.append(rect);
    }
  }
  const fig = chart.parentNode;
  const old = fig.querySelector(".legend");
  if (old) old.remove();
  fig.append(el("div", { class: "legend" },
    ...SEVERITIES.map((s) => el("span", {}, el("i", { class: "sev-" + s }), s))));
}

function renderTechniques(stats) {
  const counts = new Map();
  for (const b of stats.buckets || []) {
    for (const [t, n] of Object.entries(b.by_technique || {})) counts.set(t, (counts.get(t) || 0) + n);
  }
  const names = stats.techniques || {};
  const rows = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
  const table = clear($("techniques"));
  if (!rows.length) {
    table.append(el("tr", {}, el("td", { class: "empty" }, "none")));
    return;
  }
  table.append(el("tr", {}, el("th", {}, "technique"), el("th", { class: "num" }, "alerts")));
  for (const [id, n] of rows) {
    const info = names[id] || {};
    table.append(el("tr", {},
      el("td", {}, techniqueLink({ id, name: info.name, url: info.url })),
      el("td", { class: "num" }, n)));
  }
}

function renderEntities(list) {
  const table = clear($("entities"));
  if (!list.length) {
    table.append(el("tr", {}, el("td", { class: "empty" }, "none")));
    return;
  }
  table.append(el("tr", {}, el("th", {}, "entity"), el("th", {}, "worst"),
    el("th", { class: "num" }, "alerts"), el("th", { class: "num" }, "events")));
  for (const e of list) {
    table.append(el("tr", {},
      el("td", {}, entityLink(e.value), " ", el("span", { class: "hint" }, e.type)),
      el("td", {}, el("span", { class: "sev sev-" + sev(e.severity) }, sev(e.severity))),
      el("td", { class: "num" }, e.alerts),
      el("td", { class: "num" }, e.events)));
  }
}

function renderSensors(list) {
  const table = clear($("sensors"));
  if (!list.length) {
    table.append(el("tr", {}, el("td", { class: "empty" }, "no sources")));
    return;
  }
  table.append(el("tr", {}, el("th", {}, "source"), el("th", {}, "state"),
    el("th", { class: "num" }, "lag"), el("th", { class: "num" }, "lines/s"),
    el("th", { class: "num" }, "lines"), el("th", { class: "num" }, "unparsed"),
    el("th", { class: "num" }, "errors")));
  for (const s of list) {
    const ok = s.state === "reading" || s.state === undefined;
    table.append(el("tr", {},
      el("td", { class: "mono" }, s.path || s.name || s.unit || "?"),
      el("td", { class: ok ? "" : "error" }, s.state || "stored"),
      el("td", { class: "num" }, s.lag_bytes !== undefined ? `${s.lag_bytes} B, ${Number(s.lag_seconds || 0).toFixed(1)} s` : "–"),
      el("td", { class: "num" }, s.lines_per_second !== undefined ? Number(s.lines_per_second).toFixed(1) : "–"),
      el("td", { class: "num" }, s.lines ?? "–"),
      el("td", { class: "num" }, s.unparsed_lines ?? "–"),
      el("td", { class: "num" }, s.parse_errors ?? "–")));
  }
}

// ---------- live feed ----------

function feedItem(a, fresh) {
  const s = sev(a.severity);
  const li = el("li", { class: fresh ? "fresh" : null, "data-id": a.id },
    el("a", { href: "#/alert/" + encodeURIComponent(a.id), class: "sev-" + s },
      el("span", { class: "sev" }, s),
      el("span", { class: "rule" }, a.rule),
      el("time", { datetime: a.last_seen }, clock(a.last_seen)),
      el("span", { class: "entity" },
        `${a.entity && a.entity.value} · ×${a.count}` + (a.state && a.state !== "open" ? ` · ${a.state}` : ""))));
  if (fresh) li.dataset.received = String(Date.now());
  return li;
}

function upsertFeed(a, fresh) {
  const feed = $("feed");
  for (const li of feed.children) {
    if (li.dataset.id === a.id) {
      li.remove();
      break;
    }
  }
  feed.prepend(feedItem(a, fresh));
  while (feed.children.length > FEED_MAX) feed.lastChild.remove();
}

async function loadFeed() {
  try {
    const page = await api("/api/v1/alerts?limit=50");
    const feed = $("feed");
    // the stream may have delivered some already: keep those, add the rest below
    const shown = new Set([...feed.children].map((li) => li.dataset.id));
    for (const a of page.alerts || []) if (!shown.has(a.id)) feed.append(feedItem(a, false));
  } catch (e) {
    failed($("feed"), e);
  }
}

let refreshTimer = null;
function refreshSoon() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    if (!$("overview").hidden) loadOverview();
  }, 1000);
}

function connect() {
  const live = $("live");
  const es = new EventSource("/api/v1/stream");
  es.addEventListener("open", () => {
    live.textContent = "live";
    live.className = "live on";
  });
  es.addEventListener("error", () => {
    live.textContent = "reconnecting";
    live.className = "live off";
  });
  es.addEventListener("alert", (ev) => {
    let a;
    try {
      a = JSON.parse(ev.data);
    } catch {
      return;
    }
    upsertFeed(a, true);
    if (current && current.id === a.id) renderAlert(current.section, { alert: a, techniques: current.techniques });
    refreshSoon();
  });
  es.addEventListener("lagged", () => loadFeed());
}

// ---------- alert detail ----------

let current = null; // the alert on screen: { id, section, techniques }

async function showAlert(id) {
  const section = $("alert");
  clear(section).append(el("p", { class: "hint" }, "loading…"));
  try {
    renderAlert(section, await api("/api/v1/alerts/" + encodeURIComponent(id)));
  } catch (e) {
    failed(section, e);
  }
}

function renderAlert(section, d) {
  const a = d.alert;
  current = { id: a.id, section, techniques: d.techniques };
  const s = sev(a.severity);
  const state = a.state || "open";
  const facts = el("dl", { class: "facts" });
  const fact = (k, v) => facts.append(el("dt", {}, k), el("dd", {}, v));
  fact("entity", el("span", {}, entityLink(a.entity.value), " ", el("span", { class: "hint" }, a.entity.type)));
  if (a.src_ip) fact("source", entityLink(a.src_ip));
  if (a.user) fact("user", entityLink(a.user));
  fact("host", a.host);
  fact("sensor", a.sensor || "files");
  fact("events", a.count);
  fact("score", Number(a.score).toFixed(2));
  fact("first seen", when(a.first_seen));
  fact("last seen", when(a.last_seen));
  fact("state", el("span", {},
    el("span", { class: "state state-" + (["acknowledged", "resolved"].includes(state) ? state : "open") }, state),
    a.state_by ? ` by ${a.state_by}` : "", a.state_at ? ` at ${when(a.state_at)}` : ""));
  const ack = el("button", { type: "button", id: "ack", class: "primary", disabled: state !== "open" }, "Acknowledge");
  const res = el("button", { type: "button", id: "resolve", disabled: state === "resolved" }, "Resolve");
  const note = el("span", { class: "hint", role: "status" });
  const act = (verb, button) => button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const r = await api(`/api/v1/alerts/${encodeURIComponent(a.id)}/${verb}`, "POST", { by: "dashboard" });
      renderAlert(section, r);
      upsertFeed(r.alert, false);
      $(verb === "acknowledge" ? "ack" : "resolve").focus();
    } catch (e) {
      note.textContent = e.message;
      button.disabled = false;
    }
  });
  act("acknowledge", ack);
  act("resolve", res);
  const evidence = el("div", { class: "evidence mono", tabindex: 0, "aria-label": "evidence lines" },
    ...(a.evidence || []).map((line) => el("div", {}, line)));
  clear(section).append(
    el("a", { href: "#/", class: "back" }, "← overview"),
    el("h2", {}, el("span", { class: "sev sev-" + s }, s), " ", a.rule),
    el("p", { class: "explanation" }, a.explanation),
    el("div", { class: "actions" }, ack, res, note),
    el("div", { class: "panel" }, facts),
    el("section", { class: "panel" }, el("h3", {}, "ATT&CK techniques"),
      el("ul", {}, ...(d.techniques || []).map((t) => el("li", {}, techniqueLink(t))))),
    el("section", { class: "panel" }, el("h3", {}, "Evidence"), evidence),
  );
}

// ---------- entity timeline ----------

async function showEntity(value) {
  const section = $("entity");
  clear(section).append(el("p", { class: "hint" }, "loading…"));
  let t;
  try {
    t = await api("/api/v1/timeline?limit=500&entity=" + encodeURIComponent(value));
  } catch (e) {
    failed(section, e);
    return;
  }
  const table = el("table", { class: "timeline" },
    el("tr", {}, el("th", {}, "time"), el("th", {}, "what"), el("th", {}, "sensor / rule"), el("th", {}, "detail")));
  for (const it of t.items || []) {
    if (it.type === "alert") {
      const a = it.alert;
      table.append(el("tr", { class: "alert" },
        el("td", {}, when(it.ts)),
        el("td", {}, el("span", { class: "sev sev-" + sev(a.severity) }, "alert " + sev(a.severity))),
        el("td", {}, el("a", { href: "#/alert/" + encodeURIComponent(a.id) }, a.rule)),
        el("td", {}, `${a.explanation} (×${a.count}, until ${when(a.last_seen)})`)));
    } else {
      table.append(el("tr", {},
        el("td", {}, when(it.ts)),
        el("td", { class: it.hostile ? "hostile" : "" }, it.kind),
        el("td", {}, `${it.sensor} · ${it.host}`),
        el("td", { class: "raw" }, it.raw)));
    }
  }
  if (!(t.items || []).length) table.append(el("tr", {}, el("td", { class: "empty", colspan: 4 }, "nothing recorded")));
  clear(section).append(
    el("a", { href: "#/", class: "back" }, "← overview"),
    el("h2", {}, "Timeline of ", el("span", { class: "mono" }, t.entity)),
    el("p", { class: "hint" }, "Events recorded by the daemon and alerts, oldest first (the latest 500 of each)."),
    el("div", { class: "panel" }, table),
  );
}

// ---------- routing and keys ----------

function route() {
  const h = location.hash || "#/";
  const [, view, arg] = h.match(/^#\/([a-z]*)\/?(.*)$/) || [];
  for (const id of ["overview", "alert", "entity"]) $(id).hidden = true;
  current = null;
  let value = "";
  try {
    value = decodeURIComponent(arg || "");
  } catch {
    value = "";
  }
  if (view === "alert" && value) {
    $("alert").hidden = false;
    showAlert(value);
  } else if (view === "entity" && value) {
    $("entity").hidden = false;
    showEntity(value);
  } else {
    $("overview").hidden = false;
    loadOverview();
  }
}

function onKey(e) {
  if (e.target.matches("input, textarea")) return;
  const links = [...$("feed").querySelectorAll("a")];
  const i = links.indexOf(document.activeElement);
  if (e.key === "ArrowDown" || e.key === "j") {
    (links[i + 1] || links[0])?.focus();
    e.preventDefault();
  } else if (e.key === "ArrowUp" || e.key === "k") {
    (links[i - 1] || links[0])?.focus();
    e.preventDefault();
  } else if (e.key === "Escape") {
    location.hash = "#/";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("logout").addEventListener("click", async () => {
    try {
      await fetch("/logout", { method: "POST", credentials: "same-origin", headers: { "X-Tripline-CSRF": "1" } });
    } finally {
      location.href = "/login";
    }
  });
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", route);
  route();
  loadFeed();
  connect();
  setInterval(() => {
    if (!$("overview").hidden) loadOverview();
  }, 30000);
});
