// The field worker's app: login → prepare the round online → visit households offline (checklist, GPS
// trace, photos) → sync; enrolment photos, a phone's activation code and assisted check-ins online.
import * as api from "./api.js";
import { compressPhoto } from "./camera.js";
import { clientId, APP_VERSION } from "./checkin.js";
import { h } from "./dom.js";
import { formatDate, formatTime, language, loadMessages, setLanguage, t } from "./i18n.js";
import * as store from "./store.js";
import { syncAll, waiting } from "./sync.js";
import { assistedCheckin } from "./assist.js";

api.useTokenKey("fc.field.token");
const main = document.getElementById("app");
const langButton = document.getElementById("lang");
// A fix every 30 s while a visit form is open (and one on save); worse than 100 m asks to wait.
export const FIX_EVERY_MS = 30000;
export const POOR_FIX_M = 100;
const OUTCOMES = ["confirmed_present", "absent", "moved_away", "deceased", "refused"];
// The API's JSON comes with its keys sorted; the form asks in the order a visit goes (who is there, how
// they live, what changed, free text last). Questions a later checklist adds follow in the API's order.
const QUESTION_ORDER = [
  "present", "living_conditions", "health", "household_members_changed", "income_changed",
  "employment_changed", "vehicle_changed", "housing_changed", "changes_note",
];

function ordered(questions) {
  const rank = (name) => (QUESTION_ORDER.includes(name) ? QUESTION_ORDER.indexOf(name) : QUESTION_ORDER.length);
  return Object.entries(questions).sort(([a, qa], [b, qb]) => rank(a) - rank(b) || Boolean(qa.optional) - Boolean(qb.optional));
}
let redraw = null;
let trace = null;
let syncing = null;

function show(name, ...children) {
  redraw = null;
  main.replaceChildren(h("section", { class: `screen screen-${name}`, "data-screen": name }, ...children));
  main.focus();
  document.getElementById("brand").textContent = t("field_brand");
  langButton.textContent = t("lang_switch");
  langButton.lang = language() === "zh" ? "en" : "zh-CN";
}

const button = (label, onclick, kind = "primary", attrs = {}) =>
  h("button", { type: "button", class: `btn btn-${kind}`, onclick, ...attrs }, label);
const message = (text, kind = "info", attrs = {}) =>
  h("p", { class: `msg msg-${kind}`, role: kind === "error" ? "alert" : "status", ...attrs }, text);
const back = (route = "#/home") => button(t("back"), () => go(route), "secondary", { class: "btn btn-secondary back" });

function go(route) {
  if (location.hash === route) render();
  else location.hash = route;
}

function failure(error) {
  if (error instanceof api.NetworkError) return t("f_offline_needed");
  if (error instanceof api.ApiError && error.status === 401) return t("f_session_over");
  return t("server_error");
}

// Reason codes in words; an unknown code is shown as it is rather than hidden.
const joined = (items) => items.join(language() === "zh" ? "；" : "; ");

function reasonWords(codes) {
  return joined(codes.map((code) => (t(`reason_${code}`) === `reason_${code}` ? code : t(`reason_${code}`))));
}

// A fix's time as the worker reads it on the day: 16:59.
const clock = (iso) => new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });

function errorList(errors) {
  return Object.values(errors || {}).flat();
}

// --- login and logout --------------------------------------------------------------------------

// `problem` is a function giving the words, so that a language switch says them again in the other language.
function loginScreen(problem) {
  const user = h("input", { id: "username", class: "field", name: "username", autocomplete: "username", autocapitalize: "none" });
  const pass = h("input", { id: "password", class: "field", name: "password", type: "password", autocomplete: "current-password" });
  const submit = async () => {
    const username = user.value.trim();
    const before = await store.getMeta("user");
    // A session that ran out leaves the round on the phone: only the same worker may pick it up, and a
    // colleague may not log in over visits that are still to be sent under the first worker's name.
    if (before && before.username !== username) {
      const count = await waitingCount();
      if (count) return loginScreen(() => t("f_other_worker", { name: before.username, n: count }));
      await store.wipe();
    }
    try {
      const issued = (await api.login(username, pass.value)).body;
      api.token.set(issued.access_token);
      await store.setMeta("user", { username, expires_at: issued.expires_at });
      go("#/prepare");
    } catch (error) {
      loginScreen(() => (error instanceof api.ApiError && error.status === 401 ? t("f_login_failed") : failure(error)));
    }
  };
  show("login",
    h("h1", {}, t("f_login_title")),
    h("label", { for: "username", class: "label" }, t("f_username")), user,
    h("label", { for: "password", class: "label" }, t("f_password")), pass,
    problem && message(problem(), "error"),
    button(t("f_login"), submit, "big", { id: "login" }));
  redraw = () => loginScreen(problem);
}

async function logoutScreen() {
  const count = await waitingCount();
  const out = async () => {
    api.token.clear();
    await store.wipe();
    go("#/login");
  };
  if (!count) return out();
  show("logout",
    h("h1", {}, t("f_logout_title")),
    message(t("f_logout_unsynced", { n: count }), "error"),
    button(t("f_sync_now"), () => go("#/sync"), "big", { id: "sync-first" }),
    button(t("f_logout_anyway"), out, "secondary", { id: "logout-anyway" }),
    back());
}

// --- preparing the round -----------------------------------------------------------------------

async function prepareScreen() {
  show("loading", h("p", {}, t("f_preparing")));
  try {
    const [who, tasks, people, lists] = await Promise.all([api.me(), api.visitTasks(), api.roster(), api.checklists()]);
    const versions = Object.keys(lists.body.versions).map(Number);
    const current = Math.max(...versions);
    await store.saveRound({
      me: who.body,
      tasks: tasks.body,
      people: people.body,
      checklist: { version: current, questions: lists.body.versions[String(current)] },
      prepared_at: new Date().toISOString(),
    });
    go("#/home");
  } catch (error) {
    if (error instanceof api.ApiError && error.status === 401) return sessionOver();
    show("prepare", message(failure(error), "error"), button(t("try_again"), prepareScreen, "big"), back());
  }
}

function sessionOver() {
  api.token.clear();
  loginScreen(() => t("f_session_over"));
}

// --- home: tasks, search, the queue --------------------------------------------------------------

async function photoCounts() {
  const counts = {};
  for (const visit of await store.visits()) counts[visit.client_id] = (await store.photosOf(visit.client_id)).length;
  return counts;
}

async function waitingCount() {
  return waiting(await store.visits(), await photoCounts());
}

const standingBadge = (person) => h("span", { class: `badge badge-${person.standing}` }, t(`f_standing_${person.standing}`));

function personRow(person, extra) {
  return h("li", {},
    h("button", { type: "button", class: "person", "data-id": person.id, onclick: () => go(`#/person?id=${person.id}`) },
      h("strong", {}, person.name),
      h("span", { class: "sub" }, person.id_number_masked),
      h("span", { class: "sub" }, extra || t(`f_enrolment_${person.enrolment}`)),
      standingBadge(person)));
}

async function homeScreen() {
  const people = await store.getMeta("people");
  if (!people) return go("#/prepare");
  const [tasks, preparedAt, user, count] = await Promise.all([
    store.getMeta("tasks"), store.getMeta("prepared_at"), store.getMeta("user"), waitingCount(),
  ]);
  const byId = Object.fromEntries(people.map((p) => [p.id, p]));
  const list = h("ul", { class: "list", id: "people" });
  const search = h("input", {
    id: "search", class: "field", type: "search", placeholder: t("f_search_hint"), "aria-label": t("f_search"),
    oninput: () => fill(search.value.trim()),
  });
  const fill = (text) => {
    const shown = people.filter((p) => !text || p.name.includes(text)).slice(0, 50);
    list.replaceChildren(...(shown.length ? shown.map((p) => personRow(p)) : [h("li", {}, t("f_nobody"))]));
  };
  fill("");
  const taskRows = tasks.filter((task) => byId[task.beneficiary_id]).map((task) =>
    personRow(byId[task.beneficiary_id], t("f_task_due", { date: formatDate(task.due_on) })));
  show("home",
    h("h1", {}, t("hello", { name: user?.username || "" })),
    h("p", { class: navigator.onLine ? "online" : "offline", id: "network" }, navigator.onLine ? t("f_online") : t("f_offline")),
    message(t("f_waiting", { n: count }), count ? "due" : "ok", { id: "waiting", "data-count": String(count) }),
    h("div", { class: "actions" },
      button(t("f_sync_now"), () => go("#/sync"), "primary", { id: "sync", disabled: !count || !navigator.onLine }),
      button(t("f_my_visits"), () => go("#/visits"), "secondary", { id: "to-visits" })),
    h("h2", {}, t("f_tasks")),
    taskRows.length ? h("ul", { class: "list", id: "tasks" }, taskRows) : h("p", {}, t("f_no_tasks")),
    h("h2", {}, t("f_people")),
    search,
    list,
    h("p", { class: "when" }, t("f_prepared_at", { time: formatTime(preparedAt) })),
    h("div", { class: "actions" },
      button(t("f_prepare_again"), () => go("#/prepare"), "secondary", { id: "prepare", disabled: !navigator.onLine }),
      button(t("f_logout"), () => go("#/logout"), "secondary", { id: "logout" })));
}

async function personScreen(params) {
  const people = (await store.getMeta("people")) || [];
  const person = people.find((p) => p.id === params.get("id"));
  if (!person) return go("#/home");
  const home = person.home_lat != null ? `${person.home_lat.toFixed(5)}, ${person.home_lon.toFixed(5)}` : t("f_no_home");
  show("person",
    h("h1", {}, person.name),
    h("dl", { class: "facts" },
      h("dt", {}, t("f_id_number")), h("dd", {}, person.id_number_masked),
      h("dt", {}, t("f_home")), h("dd", {}, home),
      h("dt", {}, t("f_standing")), h("dd", {}, standingBadge(person), " ", t("f_due_by", { date: formatDate(person.due_by) })),
      h("dt", {}, t("f_enrolment")), h("dd", {}, t(`f_enrolment_${person.enrolment}`))),
    button(t("f_start_visit"), () => go(`#/visit?id=${person.id}`), "big", { id: "start-visit" }),
    h("div", { class: "actions" },
      button(t("f_enrol"), () => go(`#/enrol?id=${person.id}`), "secondary", { id: "enrol" }),
      button(t("f_activation"), () => go(`#/activation?id=${person.id}`), "secondary", { id: "activation" })),
    back());
}

// --- the visit form ------------------------------------------------------------------------------

function question(name, q, value) {
  const label = language() === "zh" ? q.label_zh : q.label_en;
  const choice = (option, type, checked) =>
    h("label", { class: "choice" },
      h("input", { type, name, value: String(option), checked: Boolean(checked) }),
      h("span", {}, typeof option === "boolean" ? t(option ? "f_yes" : "f_no") : t(`opt_${option}`)));
  let body;
  if (q.type === "choices") body = q.options.map((o) => choice(o, "checkbox", value?.includes(o)));
  else if (q.type === "choice") body = q.options.map((o) => choice(o, "radio", value === o));
  else if (q.type === "bool") body = [true, false].map((o) => choice(o, "radio", value === o));
  else body = [h("textarea", { name, class: "field", maxlength: String(q.max_length), rows: "3" }, value || "")];
  return h("fieldset", { class: "question", "data-question": name }, h("legend", {}, label, q.optional ? ` ${t("f_optional")}` : ""), body);
}

function outcomeField(value) {
  return h("fieldset", { class: "question", "data-question": "outcome" }, h("legend", {}, t("f_outcome")),
    OUTCOMES.map((o) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "outcome", value: o, checked: value === o }), h("span", {}, t(`outcome_${o}`)))));
}

// The answers as the API wants them, and the questions still unanswered.
function readForm(form, questions) {
  const answers = {};
  const missing = [];
  for (const [name, q] of ordered(questions)) {
    if (q.type === "choices") {
      const picked = [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
      if (picked.length) answers[name] = picked;
    } else if (q.type === "text") {
      const text = form.querySelector(`textarea[name="${name}"]`).value.trim();
      if (text) answers[name] = text;
    } else {
      const picked = form.querySelector(`input[name="${name}"]:checked`)?.value;
      if (picked !== undefined) answers[name] = q.type === "bool" ? picked === "true" : picked;
    }
    const unanswered = !(name in answers) && !q.optional;
    form.querySelector(`[data-question="${name}"]`).classList.toggle("missing", unanswered);
    if (unanswered) missing.push(language() === "zh" ? q.label_zh : q.label_en);
  }
  const outcome = form.querySelector('input[name="outcome"]:checked')?.value;
  form.querySelector('[data-question="outcome"]').classList.toggle("missing", !outcome);
  if (!outcome) missing.push(t("f_outcome"));
  return { answers, outcome, notes: form.querySelector("#notes").value.trim() || null, missing };
}

function fixNow() {
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve({
        lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy_m: pos.coords.accuracy,
        fix_time: new Date(pos.timestamp).toISOString(), provider: "browser", mock_location: false,
      }),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 },
    );
  });
}

// While a visit form is open the language stays put (as during the phone's check-in): the form keeps
// what was typed only as long as it is not drawn again.
function stopTrace() {
  if (trace) clearInterval(trace.timer);
  trace = null;
  document.body.classList.remove("in-session");
}

function startTrace(panel) {
  stopTrace();
  document.body.classList.add("in-session");
  trace = { fixes: [], panel, timer: null };
  const mine = trace;
  const take = async () => {
    const fix = await fixNow();
    if (trace !== mine) return null;
    if (fix) mine.fixes.push(fix);
    drawTrace(mine);
    return fix;
  };
  mine.take = take;
  mine.timer = setInterval(take, FIX_EVERY_MS);
  take();
  return mine;
}

function drawTrace(tr) {
  const last = tr.fixes.at(-1);
  tr.panel.dataset.fixes = String(tr.fixes.length);
  if (!last) {
    tr.panel.dataset.accuracy = "";
    tr.panel.replaceChildren(message(t("f_gps_waiting"), "due"));
    return;
  }
  const poor = last.accuracy_m > POOR_FIX_M;
  tr.panel.dataset.accuracy = String(Math.round(last.accuracy_m));
  tr.panel.replaceChildren(message(
    t(poor ? "f_gps_poor" : "f_gps_ok", { m: Math.round(last.accuracy_m), n: tr.fixes.length }), poor ? "error" : "ok"));
}

async function visitScreen(params) {
  const people = (await store.getMeta("people")) || [];
  const person = people.find((p) => p.id === params.get("id"));
  const checklist = await store.getMeta("checklist");
  if (!person || !checklist) return go("#/home");
  const startedAt = new Date().toISOString();
  const blobs = [];
  const thumbs = h("div", { class: "thumbs", id: "thumbs" });
  const photoInput = h("input", {
    id: "photo-input", type: "file", accept: "image/*", capture: "environment", multiple: true, class: "file",
    onchange: async () => {
      for (const file of photoInput.files) {
        const blob = await compressPhoto(file);
        blobs.push(blob);
        thumbs.append(h("img", { src: URL.createObjectURL(blob), alt: t("f_photo_n", { n: blobs.length }) }));
      }
      thumbs.dataset.count = String(blobs.length);
      photoInput.value = "";
    },
  });
  const gpsPanel = h("div", { id: "gps", "aria-live": "polite" });
  const problem = h("div", { id: "problem" });
  const form = h("form", { id: "visit-form", onsubmit: (e) => e.preventDefault() },
    ordered(checklist.questions).map(([name, q]) => question(name, q)),
    outcomeField(),
    h("label", { class: "label", for: "notes" }, t("f_notes")),
    h("textarea", { id: "notes", class: "field", maxlength: "2000", rows: "3" }));
  const save = async (anyway = false) => {
    const read = readForm(form, checklist.questions);
    if (read.missing.length) {
      problem.replaceChildren(message(t("f_missing", { list: read.missing.join("、") }), "error"));
      return;
    }
    // The fix on save says where the visit ends; a poor one asks to wait (ODK's threshold).
    const last = (await trace.take()) || trace.fixes.at(-1);
    if (!last || (last.accuracy_m > POOR_FIX_M && !anyway)) {
      problem.replaceChildren(
        message(last ? t("f_gps_wait_better", { m: Math.round(last.accuracy_m) }) : t("f_gps_none"), "error"),
        last ? button(t("f_save_anyway"), () => save(true), "secondary", { id: "save-anyway" }) : null);
      return;
    }
    const visit = {
      client_id: clientId(), beneficiary_id: person.id, name: person.name, started_at: startedAt,
      ended_at: new Date().toISOString(), gps: trace.fixes.slice(0, 50), checklist_version: checklist.version,
      checklist: read.answers, outcome: read.outcome, notes: read.notes,
      device: { model: (navigator.platform || "").slice(0, 100), os: navigator.userAgent.slice(0, 100), app_version: APP_VERSION },
      state: "queued",
    };
    stopTrace();
    await store.saveVisit(visit, blobs);
    go(`#/visit-detail?cid=${visit.client_id}&saved=1`);
    if (navigator.onLine) autoSync();
  };
  show("visit",
    h("h1", {}, t("f_visit_title", { name: person.name })),
    gpsPanel,
    button(t("f_fix_now"), () => trace.take(), "secondary", { id: "fix-now" }),
    form,
    h("h2", {}, t("f_photos")),
    h("label", { class: "btn btn-secondary file-label", for: "photo-input" }, t("f_take_photo")), photoInput, thumbs,
    problem,
    button(t("f_save_visit"), () => save(false), "big", { id: "save" }),
    button(t("f_cancel"), () => { stopTrace(); go(`#/person?id=${person.id}`); }, "secondary", { id: "cancel" }));
  drawTrace(startTrace(gpsPanel));
}

// --- the queue, one visit, edits and conflicts ----------------------------------------------------

function stateWords(visit) {
  return t(`f_state_${visit.state}`);
}

async function visitsScreen() {
  const all = await store.visits();
  const counts = await photoCounts();
  show("visits",
    h("h1", {}, t("f_my_visits")),
    all.length
      ? h("ul", { class: "list", id: "visit-list" }, all.map((v) => h("li", {},
        h("button", { type: "button", class: `person state-${v.state}`, "data-cid": v.client_id, "data-state": v.state,
          onclick: () => go(`#/visit-detail?cid=${v.client_id}`) },
        h("strong", {}, v.name), h("span", { class: "sub" }, formatTime(v.started_at)),
        h("span", { class: "sub" }, t(`outcome_${v.outcome}`)),
        h("span", { class: `badge badge-${v.state}` }, stateWords(v)),
        counts[v.client_id] ? h("span", { class: "sub" }, t("f_photos_waiting", { n: counts[v.client_id] })) : null))))
      : h("p", {}, t("f_no_visits")),
    button(t("f_sync_now"), () => go("#/sync"), "primary", { id: "sync", disabled: !navigator.onLine }),
    back());
}

function flagWords(flags) {
  return joined((flags || []).map((f) => t(`flag_${f}`)));
}

async function visitDetailScreen(params) {
  const visit = await store.getVisit(params.get("cid"));
  if (!visit) return go("#/visits");
  const photos = (await store.photosOf(visit.client_id)).length;
  const fixes = visit.gps.map((f) => `${clock(f.fix_time)} ±${Math.round(f.accuracy_m)} m`);
  show("visit-detail",
    h("h1", {}, visit.name),
    // "Saved on the phone" only while it is still only there.
    params.get("saved") && ["queued", "edit_queued"].includes(visit.state) && message(t("f_saved"), "ok", { id: "saved" }),
    h("p", { class: `badge badge-${visit.state}`, id: "visit-state", "data-state": visit.state }, stateWords(visit)),
    visit.state === "rejected" && message(reasonWords(errorList(visit.result?.errors)), "error", { id: "reasons" }),
    visit.flags?.length ? message(t("f_flagged", { flags: flagWords(visit.flags) }), "due", { id: "flags" }) : null,
    visit.photo_errors && message(t("f_photos_refused", { why: reasonWords(visit.photo_errors) }), "error"),
    h("dl", { class: "facts" },
      h("dt", {}, t("f_outcome")), h("dd", {}, t(`outcome_${visit.outcome}`)),
      h("dt", {}, t("f_times")), h("dd", {}, `${formatTime(visit.started_at)} – ${formatTime(visit.ended_at)}`),
      h("dt", {}, t("f_trace")), h("dd", { id: "trace" }, joined(fixes)),
      h("dt", {}, t("f_photos")), h("dd", {}, photos ? t("f_photos_waiting", { n: photos }) : t("f_photos_sent")),
      h("dt", {}, t("f_notes")), h("dd", {}, visit.notes || "—"),
      visit.version ? [h("dt", {}, t("f_version")), h("dd", {}, String(visit.version))] : null),
    visit.state === "conflict" && button(t("f_see_conflict"), () => go(`#/conflict?cid=${visit.client_id}`), "big", { id: "see-conflict" }),
    visit.state === "synced" && button(t("f_edit"), () => go(`#/edit?cid=${visit.client_id}`), "secondary", { id: "edit" }),
    visit.state === "synced" && visit.beneficiary_id && button(t("f_assist"), () => assist(visit), "secondary", { id: "assist", disabled: !navigator.onLine }),
    back("#/visits"));
}

function editScreen(visit, basedOn, start) {
  const checklist = { version: start.checklist_version, questions: null };
  return store.getMeta("checklist").then((current) => {
    checklist.questions = current.questions;
    const problem = h("div", { id: "problem" });
    const form = h("form", { id: "visit-form", onsubmit: (e) => e.preventDefault() },
      ordered(checklist.questions).map(([name, q]) => question(name, q, start.checklist[name])),
      outcomeField(start.outcome),
      h("label", { class: "label", for: "notes" }, t("f_notes")),
      h("textarea", { id: "notes", class: "field", maxlength: "2000", rows: "3" }, start.notes || ""));
    const save = async () => {
      const read = readForm(form, checklist.questions);
      if (read.missing.length) return problem.replaceChildren(message(t("f_missing", { list: read.missing.join("、") }), "error"));
      const changes = { checklist_version: current.version, checklist: read.answers, outcome: read.outcome, notes: read.notes };
      await store.putVisit({ ...visit, state: "edit_queued", edit: { based_on_version: basedOn, changes } });
      go(`#/visit-detail?cid=${visit.client_id}&saved=1`);
      if (navigator.onLine) autoSync();
    };
    show("edit",
      h("h1", {}, t("f_edit_title", { name: visit.name })),
      message(t("f_edit_based_on", { v: basedOn })),
      form, problem,
      button(t("f_save_visit"), save, "big", { id: "save" }),
      back(`#/visit-detail?cid=${visit.client_id}`));
    // What is typed here lives only in the form: the language stays put until it is saved or left.
    document.body.classList.add("in-session");
  });
}

async function editRoute(params) {
  const visit = await store.getVisit(params.get("cid"));
  if (!visit) return go("#/visits");
  return editScreen(visit, visit.version, visit);
}

function answerWords(question, answer) {
  if (typeof answer === "boolean") return t(answer ? "f_yes" : "f_no");
  if (Array.isArray(answer)) return answer.map((a) => t(`opt_${a}`)).join("、");
  return question?.type === "text" ? answer : t(`opt_${answer}`);
}

function summary(title, v, id, questions) {
  const label = (name) => (questions[name] ? (language() === "zh" ? questions[name].label_zh : questions[name].label_en) : name);
  return h("article", { class: "notice", id },
    h("h2", {}, title),
    h("p", {}, h("strong", {}, `${t("f_outcome")}: `), t(`outcome_${v.outcome}`)),
    h("p", {}, h("strong", {}, `${t("f_notes")}: `), v.notes || "—"),
    ordered(v.checklist || {}).map(([name, answer]) =>
      h("p", { class: "sub" }, `${label(name)}: ${answerWords(questions[name], answer)}`)));
}

async function conflictScreen(params) {
  const visit = await store.getVisit(params.get("cid"));
  if (!visit?.edit) return go("#/visits");
  show("loading", h("p", {}, t("loading")));
  let current;
  try {
    current = (await api.visit(visit.visit_id)).body;
  } catch (error) {
    return show("conflict", message(failure(error), "error"), back(`#/visit-detail?cid=${visit.client_id}`));
  }
  const questions = (await store.getMeta("checklist")).questions;
  const redo = () => editScreen({ ...visit, version: current.version }, current.version, visit.edit.changes);
  const keepTheirs = async () => {
    const { edit, ...rest } = visit;
    await store.putVisit({ ...rest, state: "synced", version: current.version, outcome: current.outcome, notes: current.notes, checklist: current.checklist });
    go(`#/visit-detail?cid=${visit.client_id}`);
  };
  show("conflict",
    h("h1", {}, t("f_conflict_title")),
    message(t("f_conflict_body", { mine: visit.edit.based_on_version, theirs: current.version }), "due"),
    summary(t("f_conflict_mine"), visit.edit.changes, "mine", questions),
    summary(t("f_conflict_theirs", { v: current.version }), current, "theirs", questions),
    button(t("f_redo"), redo, "big", { id: "redo" }),
    button(t("f_keep_theirs"), keepTheirs, "secondary", { id: "keep-theirs" }),
    back(`#/visit-detail?cid=${visit.client_id}`));
  redraw = () => conflictScreen(params);
}

// --- sync ----------------------------------------------------------------------------------------

// One sync at a time; the last run's results are kept, so what an automatic sync answered can be read later.
async function runSync() {
  syncing ??= syncAll()
    .then(async (outcome) => {
      if (outcome.results.length) await store.setMeta("last_sync", { at: new Date().toISOString(), results: outcome.results });
      return outcome;
    })
    .finally(() => { syncing = null; });
  return syncing;
}

async function autoSync() {
  if (!api.token.get() || !(await waitingCount())) return;
  try {
    await runSync();
  } catch {
    // Offline again or the server busy: the queue stays, the next signal or the button tries again.
    return;
  }
  refreshIfIdle();
}

async function syncScreen() {
  show("syncing", h("h1", { class: "centre" }, t("f_syncing")), h("div", { class: "spinner", "aria-hidden": "true" }));
  let outcome;
  try {
    outcome = await runSync();
  } catch (error) {
    if (error instanceof api.ApiError && error.status === 401) return sessionOver();
    return show("sync-result", message(t("f_sync_failed"), "error", { id: "sync-failed" }),
      button(t("try_again"), syncScreen, "big", { id: "sync-again" }), back());
  }
  const last = outcome.results.length ? null : await store.getMeta("last_sync");
  const results = last ? last.results : outcome.results;
  const draw = async () => {
    const count = await waitingCount();
    show("sync-result",
      h("h1", {}, t("f_sync_done")),
      last && h("p", { class: "when" }, t("f_last_sync", { time: formatTime(last.at) })),
      message(t("f_waiting", { n: count }), count ? "due" : "ok", { id: "waiting", "data-count": String(count) }),
      results.length
        ? h("ul", { class: "list", id: "results" }, results.map((r) => h("li", { class: `row result-${r.status}`, "data-status": r.status, "data-cid": r.client_id },
          h("span", {}, r.name),
          h("strong", {}, t(`f_result_${r.status}`)),
          r.status === "rejected" && !errorList(r.errors).includes("stale_version") ? h("span", { class: "why" }, reasonWords(errorList(r.errors))) : null,
          errorList(r.errors).includes("stale_version") ? h("span", { class: "why" }, t("f_result_stale")) : null,
          r.flags?.length ? h("span", { class: "why" }, flagWords(r.flags)) : null)))
        : h("p", {}, t("f_nothing_sent")),
      button(t("f_my_visits"), () => go("#/visits"), "primary", { id: "to-visits" }),
      back());
    redraw = draw;
  };
  await draw();
}

// --- enrolment photos and the activation code (online) -------------------------------------------

// Photos taken for one person's enrolment and not yet sent ({ blob, url } each: the thumbnail's URL made
// once), kept across redraws (a switch of language). A phone's camera input gives one photo a shot: they
// are gathered here and sent together, since a person's second photo, sent once the first has enrolled
// them, is a change a supervisor must approve. `current` is the person's enrolment as the server last
// gave it (null: not known, as offline), `replace` the worker's own choice (null: not made).
let enrolShots = { id: null, shots: [], current: null, replace: null };

function dropShots(shots) {
  for (const shot of shots) URL.revokeObjectURL(shot.url);
}
// As many as the server keeps: measured on East Asian faces (`fieldcheck bench liveness --enrolled N`, 174
// genuine check-ins, one run), verified 80.5 % with two enrolment photos, 85.1 % with five, and more of
// each degraded kind too; the face thresholds were measured against up to five (`fieldcheck bench matching`).
const ENROL_MAX = 5;
const ENROL_RECOMMENDED = ENROL_MAX;

async function enrolScreen(params, verdict) {
  const people = (await store.getMeta("people")) || [];
  const person = people.find((p) => p.id === params.get("id"));
  if (!person) return go("#/home");
  if (enrolShots.id !== person.id) {
    dropShots(enrolShots.shots);
    enrolShots = { id: person.id, shots: [], current: null, replace: null };
  }
  // Entered from elsewhere (no verdict given, not a redraw): what the server holds now, which others may
  // have changed since (a supervisor deciding a proposal, another worker enrolling the person).
  if (verdict === undefined) {
    show("loading", h("p", {}, t("loading")));
    enrolShots.current = await currentEnrolment(person);
    if (enrolShots.current) await rememberEnrolment(enrolShots.current);
  }
  const again = () => enrolScreen(params, verdict ?? null);
  const { shots, current } = enrolShots;
  const state = current?.state ?? person.enrolment;
  // The server keeps ENROL_MAX photos: with that many already, new ones can only replace them, so
  // replacing is then the default; otherwise adding is (replacing drops the photos the person checks in
  // against).
  const kept = keptPhotos(current);
  const replacing = state !== "not_enrolled" && (enrolShots.replace ?? kept >= ENROL_MAX);
  const room = replacing ? ENROL_MAX : ENROL_MAX - kept;
  const recommended = Math.min(ENROL_RECOMMENDED, room);
  // One change to a person's photos waits for approval at a time: nothing more can be sent until it is decided.
  const pending = Boolean(current?.pending_change);
  const input = h("input", {
    id: "enrol-input", type: "file", accept: "image/*", capture: "user", multiple: true, class: "file",
    onchange: async () => {
      for (const file of [...input.files].slice(0, room - shots.length)) {
        const blob = await compressPhoto(file);
        shots.push({ blob, url: URL.createObjectURL(blob) });
      }
      enrolScreen(params, null);
    },
  });
  const enrolled = state === "enrolled";
  const replace = h("input", {
    type: "checkbox", id: "replace", checked: replacing,
    onchange: () => { enrolShots.replace = replace.checked; again(); },
  });
  const send = async () => {
    const form = new FormData();
    for (const [i, shot] of shots.entries()) form.append("photos", shot.blob, `${i}.jpg`);
    show("loading", h("p", {}, t("f_enrol_sending")));
    try {
      const answer = (await api.enrolmentPhotos(person.id, form, replacing)).body;
      dropShots(shots.splice(0));
      const outcome = await enrolmentOutcome(answer);
      Object.assign(enrolShots, { current: outcome.current, replace: null });
      return enrolScreen(params, outcome);
    } catch (error) {
      const errors = error instanceof api.ApiError ? error.body.errors || {} : {};
      // Each error with the photo it names (photos.N), or null for one about the whole request.
      const named = Object.entries(errors).map(([field, codes]) => [field.match(/^photos\.(\d+)$/)?.[1], codes]);
      // Kept as functions, so the verdict reads right after a switch of language.
      const lines = named.map(([n, codes]) => () =>
        (n ? t("f_enrol_photo_bad", { n: Number(n) + 1, why: reasonWords(codes) }) : reasonWords(codes)));
      // The photos refused are dropped, the others kept: one retake, not a new set.
      const refused = new Set(named.filter(([n]) => n).map(([n]) => Number(n)));
      dropShots(shots.filter((_, i) => refused.has(i)));
      // A refusal may come of a change made meanwhile (another worker's proposal): the screen then says so.
      Object.assign(enrolShots, { shots: shots.filter((_, i) => !refused.has(i)), current: await currentEnrolment(person) });
      return enrolScreen(params, { kind: "error", lines: lines.length ? lines : [() => failure(error)] });
    }
  };
  const taken = shots.length;
  show("enrol",
    h("h1", {}, t("f_enrol_title", { name: person.name })),
    // Advice on taking photos only where photos can be taken and sent.
    !pending && room > 0 && h("p", {}, t(recommended === 1 ? "f_enrol_help_one" : "f_enrol_help", { n: recommended })),
    // The verdict of a send says where the enrolment stands; before one, the person's state does.
    verdict
      ? h("div", { id: "verdict", "data-kind": verdict.kind }, verdict.lines.map((line) => message(line(), verdict.kind)))
      : h("p", { id: "enrol-state" }, t(`f_enrolment_${state}`)),
    kept > 0 && h("p", { id: "enrol-kept", "data-count": String(kept) }, t("f_enrol_kept", { n: kept })),
    // A proposal just made says so in its verdict.
    pending && !verdict?.proposal && message(t("f_enrol_pending"), "due", { id: "enrol-pending" }),
    // The server makes any change to an enrolled person's photos a proposal a supervisor decides; once one
    // is made, its verdict says so.
    !pending && enrolled && !verdict?.proposal && message(t("f_enrol_change_approved"), "due", { id: "enrol-approval" }),
    !pending && room === 0 && message(t("f_enrol_full", { n: ENROL_MAX }), "due", { id: "enrol-full" }),
    taken > 0 && h("div", { class: "thumbs", id: "enrol-thumbs", "data-count": String(taken) },
      shots.map((shot, i) => h("img", { src: shot.url, alt: t("f_photo_n", { n: i + 1 }) }))),
    taken > 0 && message(
      t(taken < recommended ? "f_enrol_taken_few" : "f_enrol_taken", { n: taken, recommended }),
      taken < recommended ? "due" : "ok", { id: "enrol-count" }),
    // Nothing to replace before a first enrolment.
    !pending && state !== "not_enrolled" &&
      h("label", { class: "choice" }, replace, h("span", {}, t("f_enrol_replace"))),
    !pending && taken < room &&
      h("label", { class: `btn ${taken || enrolled ? "btn-secondary" : "btn-big"} file-label`, for: "enrol-input" },
        t(taken ? "f_enrol_take_more" : "f_enrol_take")),
    input,
    !pending && taken > 0 && taken <= room && button(t("f_enrol_send", { n: taken }), send, "big", { id: "enrol-send" }),
    taken > 0 && button(t("f_enrol_clear"), () => { dropShots(shots.splice(0)); again(); },
      "secondary", { id: "enrol-clear" }),
    back(`#/person?id=${person.id}`));
  redraw = again;
}

// The person's enrolment, or null where it cannot be read now (the screen then offers what it always may).
async function currentEnrolment(person) {
  try {
    return (await api.enrolment(person.id)).body;
  } catch {
    return null;
  }
}

// The person's enrolment state as the server gave it, kept with the people synced (the person screen shows it).
async function rememberEnrolment(enrolment) {
  const people = (await store.getMeta("people")) || [];
  const id = enrolment.beneficiary_id;
  await store.setMeta("people", people.map((p) => (p.id === id ? { ...p, enrolment: enrolment.state } : p)));
}

// Photos the server counts against its limit, short of those waiting in a proposal.
function keptPhotos(enrolment) {
  return (enrolment?.photos || []).filter((p) => ["received", "processing", "encoded"].includes(p.state)).length;
}

// The photos are checked at once (refusals come back as 422); the face template follows in the worker.
// The outcome says so in lines, and carries the enrolment it ends with (`current`, null when not known).
async function enrolmentOutcome(answer) {
  // An answer without an enrolment state is shown in its own words.
  if (!answer?.state) return { kind: "info", current: null, lines: [() => answer?.message || t("f_enrol_sent")] };
  // An enrolled person stays enrolled with the photos they had until a supervisor approves the new ones.
  if (answer.pending_change) {
    const line = () => t(`f_enrol_proposed_${answer.pending_change.kind}`);
    return { kind: "info", proposal: true, current: answer, lines: [line] };
  }
  let state = answer;
  for (let i = 0; i < 40 && state.state === "processing"; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    state = (await api.enrolment(state.beneficiary_id)).body;
  }
  await rememberEnrolment(state);
  const kind = state.state === "enrolled" ? "ok" : state.state === "failed" ? "error" : "info";
  const failed = (state.photos || []).filter((p) => p.failure_reason).map((p) => () => reasonWords([p.failure_reason]));
  return { kind, current: state, lines: [() => t(`f_enrolment_${state.state}`), ...failed] };
}

async function activationScreen(params) {
  const people = (await store.getMeta("people")) || [];
  const person = people.find((p) => p.id === params.get("id"));
  if (!person) return go("#/home");
  show("loading", h("p", {}, t("loading")));
  let issued;
  let qr;
  try {
    issued = (await api.activationCode(person.id)).body;
    qr = URL.createObjectURL((await api.activationQr(issued.activation_code)).body);
  } catch (error) {
    return show("activation", message(failure(error), "error"), back(`#/person?id=${person.id}`));
  }
  const draw = () => show("activation",
    h("h1", {}, t("f_activation_title", { name: person.name })),
    h("img", { class: "qr", id: "qr", src: qr, alt: t("f_qr_alt") }),
    // In groups of four, as people read a code aloud or type it.
    h("p", { class: "code-big", id: "activation-code" }, issued.activation_code.match(/.{1,4}/g).join(" ")),
    message(t("f_activation_help", { time: formatTime(issued.expires_at) })),
    back(`#/person?id=${person.id}`));
  draw();
  redraw = draw;
}

function assist(visit) {
  assistedCheckin({
    main, show, visit, keep: (draw) => { redraw = draw; }, done: () => go(`#/visit-detail?cid=${visit.client_id}`),
  });
}

// Screens that show the network state are drawn again when it changes; a form being filled in never is.
function refreshIfIdle() {
  const screen = main.querySelector("[data-screen]")?.dataset.screen;
  if (["home", "visits", "visit-detail", "person"].includes(screen)) render();
}

// --- routing -------------------------------------------------------------------------------------

const ROUTES = {
  "/prepare": prepareScreen, "/home": homeScreen, "/person": personScreen, "/visit": visitScreen,
  "/visits": visitsScreen, "/visit-detail": visitDetailScreen, "/edit": editRoute, "/conflict": conflictScreen,
  "/sync": syncScreen, "/enrol": enrolScreen, "/activation": activationScreen, "/logout": logoutScreen,
};

function render() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  if (path !== "/visit") stopTrace();
  document.body.classList.remove("in-session");
  if (!api.token.get()) return loginScreen();
  return (ROUTES[path] || homeScreen)(new URLSearchParams(query));
}

langButton.addEventListener("click", () => {
  if (document.body.classList.contains("in-session")) return;
  setLanguage(language() === "zh" ? "en" : "zh");
  const again = redraw;
  if (!again) return render();
  again();
  // A screen drawn by show() alone forgets how; it is still the same screen.
  redraw ??= again;
});

// A round holds the names, masked ID numbers and home positions of a region's people. Once prepared more
// than this long ago, with nothing left to send, it is deleted when the app opens, with the session: a
// phone left in a drawer, or lost, does not keep it.
const ROUND_KEPT_DAYS = 7;

async function forgetStaleRound() {
  const preparedAt = await store.getMeta("prepared_at");
  if (!preparedAt || Date.now() - Date.parse(preparedAt) < ROUND_KEPT_DAYS * 86400000) return false;
  if (await waitingCount()) return false;
  api.token.clear();
  await store.wipe();
  return true;
}

async function boot() {
  setLanguage(language());
  await loadMessages("field-messages.json");
  window.addEventListener("hashchange", render);
  window.addEventListener("online", () => { refreshIfIdle(); autoSync(); });
  window.addEventListener("offline", refreshIfIdle);
  if (await forgetStaleRound()) loginScreen(() => t("f_round_forgotten", { days: ROUND_KEPT_DAYS }));
  else render();
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js", { scope: "/m/" }).catch(() => {});
  if (navigator.onLine) autoSync();
}

boot();
