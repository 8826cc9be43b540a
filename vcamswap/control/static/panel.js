"use strict";
// The VCamSwap control panel: plain JavaScript over the daemon's loopback API (session cookie).
const DATA = JSON.parse(document.getElementById("strings").textContent);
const T = DATA.text;
const $ = (id) => document.getElementById(id);
function t(key, vars) {
  let text = T[key] || key;
  for (const [name, value] of Object.entries(vars || {})) text = text.split("{" + name + "}").join(String(value));
  return text;
}
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) node.append(child);
  return node;
}
async function api(path, body, raw) {
  const options = body === undefined ? {} : raw
    ? { method: "POST", body: body, headers: { "Content-Type": body.type || "application/octet-stream" } }
    : { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
  const response = await fetch(path, Object.assign({ credentials: "same-origin", cache: "no-store" }, options));
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}
function say(id, text, good) {
  const node = $(id);
  node.textContent = text;
  node.className = "msg " + (good ? "good" : "bad");
}

// Live view: output or camera; the stream closes while the tab is hidden.
let view = "output";
function streamOn() {
  if (document.hidden) return;
  $("stream").src = "/preview.mjpg?view=" + view + "&t=" + Date.now();
  $("hidden-note").hidden = true;
}
function streamOff() {
  $("stream").removeAttribute("src");
  $("hidden-note").hidden = false;
}
function setView(next) {
  view = next;
  $("view-output").setAttribute("aria-checked", String(next === "output"));
  $("view-camera").setAttribute("aria-checked", String(next === "camera"));
  $("stream").alt = t(next === "output" ? "output_hint" : "camera_hint");
  streamOn();
}
$("view-output").addEventListener("click", () => setView("output"));
$("view-camera").addEventListener("click", () => setView("camera"));
document.querySelector(".switch").addEventListener("keydown", (e) => {
  if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
    setView(view === "output" ? "camera" : "output");
    $(view === "output" ? "view-output" : "view-camera").focus();
  }
});
document.addEventListener("visibilitychange", () => (document.hidden ? streamOff() : streamOn()));

// Status, in words.
function statusRows(s) {
  const g = s.governor || {};
  const top = (g.levels || []).length - 1;
  return [
    [t("state"), t("state." + s.state) + (s.blocked ? " · " + s.blocked : "")],
    [t("engine"), (s.engine || "") + " · " + (s.engine_reason || "")],
    [t("governor"), t("governor_line", { level: g.level, top: Math.max(top, 0), name: g.name, reason: g.reason })],
    [t("guard"), t("swapped_guarded", { swapped: s.swapped_frames || 0, guarded: s.guarded_frames || 0 })],
    [t("last_error"), s.last_error || (s.config_problems || [])[0] || s.unsaved || t("none")],
  ];
}
async function pollStatus() {
  try {
    const s = await api("/api/status");
    $("banner").hidden = true;
    const pill = $("state");
    pill.textContent = t("state." + s.state);
    pill.className = "pill " + s.state;
    $("overlay").textContent = t("fps", { fps: (s.output_fps || 0).toFixed(0) }) + " · " +
      t("latency", { ms: (s.latency_ms || 0).toFixed(0) });
    const list = $("status-list");
    list.replaceChildren(...statusRows(s).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    markActive(s.face);
  } catch (e) {
    $("banner").textContent = t("disconnected");
    $("banner").hidden = false;
    $("state").textContent = t("state.stopped");
    $("state").className = "pill error";
    $("overlay").textContent = "";
  }
  setTimeout(pollStatus, 1000);
}

// Faces.
let activeFace = null;
function markActive(face) {
  const items = document.querySelectorAll("#gallery li");
  if (!face && items.length) face = items[0].dataset.name;  // none chosen: the first is used
  activeFace = face;
  for (const item of items) {
    const on = item.dataset.name === face;
    item.classList.toggle("active", on);
    const use = item.querySelector("button.use");
    use.textContent = on ? t("active") : t("use");
    use.disabled = on;
    use.setAttribute("aria-pressed", String(on));
  }
}
function faceItem(face) {
  const name = face.name;
  const use = el("button", { type: "button", class: "small use", onclick: async () => {
    try {
      await api("/api/face", { name: name }); markActive(name); say("face-msg", "", true);
      document.querySelector('#gallery li[data-name="' + CSS.escape(name) + '"] button.small:not(.use)').focus();
    }
    catch (e) { say("face-msg", t("error", { message: e.message })); }
  } }, t("use"));
  const rename = el("button", { type: "button", class: "small", onclick: async () => {
    const next = (window.prompt(t("rename_prompt", { name: name }), name) || "").trim();
    if (!next || next === name) return;
    try { await api("/api/panel/faces/rename", { name: name, new_name: next }); say("face-msg", "", true); loadFaces(); }
    catch (e) { say("face-msg", t("error", { message: e.message })); }
  } }, t("rename"));
  const remove = el("button", { type: "button", class: "small", onclick: async () => {
    if (!window.confirm(t("remove_confirm", { name: name }))) return;
    try { await api("/api/panel/faces/remove", { name: name }); say("face-msg", "", true); loadFaces(); }
    catch (e) { say("face-msg", t("error", { message: e.message })); }
  } }, t("remove"));
  const thumb = el("img", { src: "/api/panel/thumbnail?name=" + encodeURIComponent(name) + "&v=" + face.sha256, alt: name, loading: "lazy" });
  return el("li", { "data-name": name }, thumb, el("span", { class: "name" }, name),
    el("span", { class: "actions" }, use, rename, remove));
}
async function loadFaces() {
  try {
    const data = await api("/api/panel/faces");
    $("gallery").replaceChildren(...data.faces.map(faceItem));
    $("no-faces").hidden = data.faces.length > 0;
    markActive((data.faces.find((f) => f.active) || {}).name || activeFace);
  } catch (e) { say("face-msg", t("error", { message: e.message })); }
}
async function upload(file) {
  if (!file) return;
  say("face-msg", t("adding"), true);
  const name = $("new-name").value.trim();
  const query = "?filename=" + encodeURIComponent(file.name) + (name ? "&name=" + encodeURIComponent(name) : "");
  try {
    const data = await api("/api/panel/faces/add" + query, file, true);
    const notes = (data.added.notes || []).join("; ");
    say("face-msg", t("added", { name: data.added.name }) + (notes ? " — " + notes : ""), true);
    $("new-name").value = "";
    loadFaces();
  } catch (e) { say("face-msg", t("error", { message: e.message })); }
  $("file").value = "";  // picking the same file again (after a new name) uploads it again
}
$("file").addEventListener("change", () => upload($("file").files[0]));
const drop = $("drop");
for (const type of ["dragenter", "dragover"]) drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
for (const type of ["dragleave", "drop"]) drop.addEventListener(type, () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); upload(e.dataTransfer.files[0]); });

// Settings: each change is applied and saved at once.
function choiceLabel(value) {
  if (DATA.languages[value]) return DATA.languages[value];
  return T["choice." + value] || value;
}
// One request per setting at a time; a value changed meanwhile (a slider moved with the keys)
// goes next, so the last value the user chose is the one saved.
const pending = {};
async function sendSetting(key, value) {
  if (key in pending) { pending[key] = { value: value }; return; }
  pending[key] = null;
  let next = { value: value };
  while (next) {
    try {
      const data = await api("/api/panel/setting", { key: key, value: next.value });
      if (data.problems && data.problems.length) say("setting-msg", t("error", { message: data.problems.join("; ") }));
      else say("setting-msg", t("saved") + ": " + t("setting." + key), true);
    } catch (e) { say("setting-msg", t("error", { message: e.message })); }
    next = pending[key];
    pending[key] = null;
  }
  delete pending[key];
  if (key === "ui.language") window.location.reload();
}
function control(spec, value, cameras) {
  const id = "set-" + spec.key.replace(/\./g, "-");
  const send = (v) => sendSetting(spec.key, v);
  if (spec.kind === "bool") {
    const box = el("input", { type: "checkbox", id: id, checked: !!value });
    box.addEventListener("change", () => send(box.checked));
    return box;
  }
  if (spec.kind === "choice") {
    const camera = spec.key === "camera.device";
    const names = Object.fromEntries(cameras.map((c) => [c.value, c.label + " (" + c.value + ")"]));
    const all = (camera ? cameras.map((c) => c.value) : spec.choices).map(String);
    if (!all.includes(String(value))) all.unshift(String(value));
    const select = el("select", { id: id });
    for (const c of all) select.append(el("option", { value: c, selected: String(value) === c }, camera ? names[c] || c : choiceLabel(c)));
    select.addEventListener("change", () => send(spec.key === "camera.rotate" ? Number(select.value) : select.value));
    return select;
  }
  const range = el("input", { type: "range", id: id, min: spec.low, max: spec.high, step: spec.step, value: value });
  const shown = el("output", { for: id }, Number(value).toFixed(2));
  range.addEventListener("input", () => (shown.textContent = Number(range.value).toFixed(2)));
  range.addEventListener("change", () => send(Number(range.value)));
  return el("span", { class: "control" }, range, shown);
}
async function loadSettings() {
  try {
    const data = await api("/api/panel/settings");
    const rows = data.settings.map((spec) => el("div", { class: "row" },
      el("label", { for: "set-" + spec.key.replace(/\./g, "-") }, t("setting." + spec.key)),
      control(spec, data.values[spec.key], data.cameras || [])));
    $("settings-form").replaceChildren(...rows);
  } catch (e) { say("setting-msg", t("error", { message: e.message })); }
}

// Checks and models (doctor's), once: they take a moment.
async function loadChecks() {
  try {
    const data = await api("/api/panel/checks");
    $("checks").replaceChildren(...data.checks.map((c) => el("li", { class: c.ok ? "ok" : "bad" },
      c.name + ": " + c.detail, c.ok || !c.fix ? "" : el("span", { class: "fix" }, t("fix", { fix: c.fix })))));
    $("models").replaceChildren(...data.models.map((m) => el("li", { class: m.present ? "ok" : "bad" },
      m.name + " — " + t(m.present ? "present" : "missing") + " · " + t("licence", { licence: m.licence }))));
  } catch (e) { $("checks").replaceChildren(el("li", { class: "bad" }, t("error", { message: e.message }))); }
}

setView("output");
pollStatus();
loadFaces();
loadSettings();
loadChecks();
