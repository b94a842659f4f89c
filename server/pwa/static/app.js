// The beneficiary's check-in app: activation → consent → home → camera → prompts → colours → upload → verdict.
import * as api from "./api.js";
import { closeCamera, openCamera, watchPicture } from "./camera.js";
import { Aborted, clientId, locate, perform, upload, verdict } from "./checkin.js";
import { h, svg } from "./dom.js";
import { ICONS } from "./icons.js";
import { formatDate, formatTime, language, loadMessages, setLanguage, t } from "./i18n.js";
import { hush, speak } from "./speech.js";

const main = document.getElementById("app");
const langButton = document.getElementById("lang");
// The code from the link or typed in, kept in memory only until the person agrees or refuses.
let pendingCode = "";
let session = null;
// Screens that are not routes (a verdict, an upload problem) say how to draw themselves again in the
// other language; while the camera runs or an upload is under way the language stays put.
let redraw = null;
let busy = false;

function setBusy(value) {
  busy = value;
  document.body.classList.toggle("in-session", value);
}

function show(name, ...children) {
  redraw = null;
  main.replaceChildren(h("section", { class: `screen screen-${name}`, "data-screen": name }, ...children));
  main.focus();
  document.getElementById("brand").textContent = t("brand");
  langButton.textContent = t("lang_switch");
  langButton.lang = language() === "zh" ? "en" : "zh-CN";
}

const button = (label, onclick, kind = "primary", attrs = {}) =>
  h("button", { type: "button", class: `btn btn-${kind}`, onclick, ...attrs }, label);

const message = (text, kind = "info") => h("p", { class: `msg msg-${kind}`, role: kind === "error" ? "alert" : "status" }, text);

function go(route) {
  if (location.hash === route) render();
  else location.hash = route;
}

function failure(error) {
  if (error instanceof api.NetworkError) return t("network_error");
  if (error instanceof api.ApiError && error.reasons().includes("device_revoked")) return t("revoked");
  return t("server_error");
}

// --- activation and consent --------------------------------------------------------------------

function activationScreen(params, problem) {
  const fromLink = params.get("code");
  if (fromLink) pendingCode = fromLink;
  const input = h("input", {
    id: "code", class: "code", name: "code", value: pendingCode, autocomplete: "one-time-code",
    autocapitalize: "characters", spellcheck: "false", inputmode: "text", maxlength: "32", "aria-describedby": "code-help",
  });
  const submit = () => {
    pendingCode = input.value.trim();
    if (pendingCode.replace(/[^A-Za-z0-9]/g, "").length < 8) {
      activationScreen(new URLSearchParams(), t("code_invalid"));
      return;
    }
    go("#/consent");
  };
  show(
    "activate",
    h("h1", {}, t("activate_title")),
    h("p", { id: "code-help" }, fromLink ? t("activate_from_link") : t("activate_intro")),
    h("label", { for: "code", class: "label" }, t("code_label")),
    input,
    problem && message(problem, "error"),
    button(t("next"), submit, "primary", { id: "next" }),
  );
}

async function consentScreen() {
  if (!pendingCode) return go("#/activate");
  show("loading", h("p", {}, t("loading")));
  let text;
  try {
    text = (await api.consentText()).body;
  } catch (error) {
    return show("consent", message(failure(error), "error"), button(t("try_again"), consentScreen));
  }
  const zh = language() === "zh";
  const agree = async () => {
    try {
      const issued = (await api.activate(pendingCode, text.version)).body;
      api.token.set(issued.access_token);
      pendingCode = "";
      go("#/home");
    } catch (error) {
      const reasons = error instanceof api.ApiError ? error.reasons() : [];
      const why = reasons.includes("activation_code_expired") ? t("code_expired")
        : reasons.includes("beneficiary_terminated") ? t("code_terminated")
        : reasons.includes("invalid_activation_code") ? t("code_invalid") : failure(error);
      activationScreen(new URLSearchParams(), why);
    }
  };
  show(
    "consent",
    h("h1", {}, t("consent_title")),
    h("p", { class: "purpose" }, h("strong", {}, t("consent_purpose")), zh ? text.purpose_zh : text.purpose_en),
    h("div", { class: "consent-text" }, (zh ? text.text_zh : text.text_en).map((para) => h("p", {}, para))),
    h("div", { class: "actions" },
      button(t("agree"), agree, "primary", { id: "agree" }),
      button(t("refuse"), () => go("#/refused"), "secondary", { id: "refuse" })),
  );
}

function refusedScreen() {
  // Nothing is sent: the code stays unused, and without consent the phone gets no token.
  show(
    "refused",
    svg(ICONS.person),
    h("h1", {}, t("refused_title")),
    h("p", {}, t("refused_body")),
    button(t("refused_again"), () => go("#/consent"), "secondary", { id: "again" }),
  );
}

// --- home, history, notices --------------------------------------------------------------------

async function loadHome() {
  try {
    return (await api.home()).body;
  } catch (error) {
    if (error instanceof api.ApiError && error.status === 401) {
      api.token.clear();
      activationScreen(new URLSearchParams(), t("revoked"));
      return null;
    }
    show("home", message(failure(error), "error"), button(t("try_again"), render));
    return null;
  }
}

async function homeScreen() {
  show("loading", h("p", {}, t("loading")));
  const me = await loadHome();
  if (!me) return;
  const standing = me.covered_until
    ? message(t("covered", { date: formatDate(me.covered_until) }), "ok")
    : me.due_by && message(t("due", { date: formatDate(me.due_by) }), "due");
  const locked = me.locked_until && message(t("locked", { time: formatTime(me.locked_until) }), "error");
  show(
    "home",
    h("h1", {}, t("hello", { name: me.name })),
    standing,
    me.status === "suspended" && message(t("suspended"), "error"),
    locked,
    me.consent_withdrawn_at
      ? message(t("consent_withdrawn"), "error")
      : button(t("start_checkin"), () => go("#/prepare"), "big", { id: "start-checkin", disabled: Boolean(locked) }),
    h("nav", { class: "links" },
      button(t("history"), () => go("#/history"), "secondary", { id: "to-history" }),
      button(`${t("notices")}${me.notices.length ? ` (${me.notices.length})` : ""}`, () => go("#/notices"), "secondary", { id: "to-notices" }),
      button(t("my_data"), () => go("#/mydata"), "secondary", { id: "to-mydata" })),
  );
}

async function historyScreen() {
  const me = await loadHome();
  if (!me) return;
  const rows = me.checkins.map((c) =>
    h("li", { class: `row row-${c.status}` },
      h("span", { class: "when" }, formatTime(c.received_at)),
      h("strong", {}, t(`status_${c.status}`))));
  show(
    "history",
    h("h1", {}, t("history_title")),
    rows.length ? h("ul", { class: "list" }, rows) : h("p", {}, t("history_empty")),
    button(t("back"), () => go("#/home"), "secondary"),
  );
}

// Notices are written "中文 / English": show the reader's half.
function inLanguage(text) {
  const halves = text.split(" / ");
  if (halves.length !== 2) return text;
  return language() === "zh" ? halves[0] : halves[1];
}

function upheld(notice) {
  return notice.kind.endsWith("_upheld");
}

async function noticesScreen() {
  const me = await loadHome();
  if (!me) return;
  const cards = me.notices.map((n) =>
    h("article", { class: "notice" },
      h("h2", {}, t(`notice_${n.kind}`)),
      h("p", { class: "when" }, formatDate(n.created_at)),
      h("p", {}, h("strong", {}, t("notice_what")), inLanguage(n.what)),
      h("p", {}, h("strong", {}, t("notice_why")), inLanguage(n.why)),
      n.note_for_person ? h("p", { class: "note" }, n.note_for_person) : null,
      n.evidence ? h("p", {}, h("strong", {}, t("notice_evidence")), inLanguage(n.evidence)) : null,
      // An upheld appeal's answer points outside the office: reconsideration, not another review.
      h("p", {}, h("strong", {}, t(upheld(n) ? "notice_reconsider" : "notice_appeal")), inLanguage(n.how_to_appeal)),
      message(t(upheld(n) ? "notice_reconsider_by" : "notice_appeal_by", { date: formatDate(n.appeal_by) }), "due")));
  show(
    "notices",
    h("h1", {}, t("notices_title")),
    cards.length ? cards : h("p", {}, t("notices_empty")),
    button(t("back"), () => go("#/home"), "secondary"),
  );
}

// --- my data: what is held about the person, and withdrawing consent ----------------------------

const section = (title, items, empty) =>
  h("section", { class: "mydata" }, h("h2", {}, title), items.length ? h("ul", { class: "list" }, items) : h("p", {}, empty));

async function myDataScreen(problem) {
  show("loading", h("p", {}, t("loading")));
  let data;
  try {
    data = (await api.myData()).body;
  } catch (error) {
    return show("mydata", message(failure(error), "error"), button(t("back"), () => go("#/home"), "secondary"));
  }
  const days = data.retention_days;
  const standing = data.consents.find((c) => !c.withdrawn_at);
  show(
    "mydata",
    h("h1", {}, t("my_data_title")),
    h("p", {}, t("my_data_intro")),
    problem && message(problem, "error"),
    section(t("my_data_checkins", { count: data.checkins_total }), data.checkins.map((c) =>
      h("li", { class: `row row-${c.status}` },
        h("span", { class: "when" }, formatTime(c.received_at)),
        h("strong", {}, t(`status_${c.status}`)))), t("history_empty")),
    section(t("my_data_visits"), data.visits.map((v) =>
      h("li", { class: "row" },
        h("span", { class: "when" }, formatDate(v.visited_at)),
        h("strong", {}, t(`visit_${v.outcome}`)))), t("my_data_none")),
    section(t("notices"), data.notices.map((n) =>
      h("li", { class: "row" },
        h("span", { class: "when" }, formatDate(n.created_at)),
        h("strong", {}, t(`notice_${n.kind}`)))), t("notices_empty")),
    section(t("my_data_consent"), data.consents.map((c) =>
      h("li", { class: "row" },
        h("span", { class: "when" }, formatDate(c.agreed_at)),
        h("strong", {}, c.withdrawn_at ? t("my_data_withdrawn_on", { date: formatDate(c.withdrawn_at) }) : t("my_data_given")))),
      t("my_data_none")),
    h("p", { class: "retention" }, t("my_data_kept", {
      photos: data.enrolment_photos, frames: days.checkin_frames, visits: days.visit_photos,
    })),
    standing
      ? button(t("withdraw"), () => go("#/withdraw"), "danger", { id: "withdraw" })
      : message(t("consent_withdrawn"), "error"),
    button(t("back"), () => go("#/home"), "secondary", { id: "back" }),
  );
}

function withdrawScreen() {
  const confirm = async (event) => {
    event.currentTarget.disabled = true;
    try {
      await api.withdrawConsent();
      go("#/mydata");
    } catch (error) {
      myDataScreen(failure(error));
    }
  };
  show(
    "withdraw",
    h("h1", {}, t("withdraw_title")),
    h("ul", { class: "steps" }, ["withdraw_1", "withdraw_2", "withdraw_3"].map((k) => h("li", {}, t(k)))),
    h("div", { class: "actions" },
      button(t("withdraw_confirm"), confirm, "danger", { id: "withdraw-confirm" }),
      button(t("withdraw_cancel"), () => go("#/mydata"), "secondary", { id: "withdraw-cancel" })),
  );
}

// --- the check-in ------------------------------------------------------------------------------

function prepareScreen(problem) {
  show(
    "prepare",
    h("h1", {}, t("prepare_title")),
    h("ol", { class: "steps" }, ["prepare_1", "prepare_2", "prepare_3", "prepare_4"].map((k) => h("li", {}, t(k)))),
    h("p", {}, t("prepare_help")),
    problem && message(problem, "error"),
    button(t("open_camera"), startSession, "big", { id: "open-camera" }),
    button(t("back"), () => go("#/home"), "secondary"),
  );
}

function endSession() {
  if (!session) return;
  session.stopHint?.();
  session.abort?.abort();
  closeCamera(session.stream);
  hush();
  session = null;
  setBusy(false);
}

async function freshChallenge() {
  try {
    return (await api.newChallenge()).body;
  } catch (error) {
    const reasons = error instanceof api.ApiError ? error.reasons() : [];
    if (reasons.includes("locked_out")) go("#/home");
    else if (reasons.includes("consent_required")) { api.token.clear(); go("#/activate"); }
    else if (reasons.includes("consent_withdrawn")) prepareScreen(t("consent_withdrawn"));
    else if (reasons.includes("not_enrolled")) prepareScreen(t("not_enrolled"));
    else prepareScreen(failure(error));
    return null;
  }
}

// The challenge is asked for before the camera opens (so the camera shows what follows it).
async function startSession(event) {
  // An unsteady finger taps twice: one challenge, one camera.
  if (event?.currentTarget) event.currentTarget.disabled = true;
  const challenge = await freshChallenge();
  if (!challenge) return;
  const video = h("video", { id: "preview", playsinline: true, muted: true, autoplay: true, "aria-label": t("video_label") });
  const canvas = h("canvas", { hidden: true });
  try {
    const stream = await openCamera(video);
    session = { challenge, video, canvas, stream, id: clientId(), gps: null };
  } catch (error) {
    const denied = error?.name === "NotAllowedError" || error?.name === "SecurityError";
    prepareScreen(t(denied ? "camera_denied" : "camera_missing"));
    return;
  }
  setBusy(true);
  previewScreen();
}

function cameraStage(name, overlay, below) {
  const { video } = session;
  show(name, h("div", { class: "camera" }, video, h("div", { class: "oval", "aria-hidden": "true" }), overlay), below);
  if (video.paused) video.play().catch(() => {});
}

function previewScreen() {
  const hint = h("p", { class: "hint", id: "hint", role: "status", "aria-live": "polite" }, t("hint_wait"));
  cameraStage("preview", h("h1", { class: "over" }, t("preview_title")),
    h("div", { class: "below" }, hint,
      button(t("start"), runPrompts, "big", { id: "start" }),
      button(t("back"), () => { endSession(); go("#/home"); }, "secondary")));
  session.stopHint = watchPicture(session.video, hint);
}

function stageView(stage) {
  const lang = language();
  if (stage.kind === "colour") {
    session.colourLayer.style.background = stage.colour;
    session.colourLayer.hidden = false;
    return;
  }
  const card = session.promptCard;
  if (stage.kind === "hold") {
    card.replaceChildren(svg(ICONS.hold), h("p", { class: "prompt" }, t("hold_still")));
    speak(t("hold_still"), lang);
    return;
  }
  const text = lang === "zh" ? stage.prompt.prompt_zh : stage.prompt.prompt_en;
  card.dataset.action = stage.prompt.action;
  card.replaceChildren(
    svg(ICONS[stage.prompt.action] || ICONS.hold),
    h("p", { class: "prompt" }, text),
    h("p", { class: "step" }, t("step_of", { n: stage.index + 1, total: stage.total })),
  );
  speak(text, lang);
}

async function runPrompts() {
  if (!session || (session.abort && !session.abort.signal.aborted)) return;
  session.stopHint?.();
  // A challenge is good for about two minutes: one that has waited long in the preview is replaced.
  if (new Date(session.challenge.expires_at) - Date.now() < 45000) {
    const challenge = await freshChallenge();
    if (!challenge) return endSession();
    session.challenge = challenge;
  }
  session.abort = new AbortController();
  session.promptCard = h("div", { class: "prompt-card", id: "prompt", role: "status", "aria-live": "assertive" });
  session.colourLayer = h("div", { class: "colour-layer", id: "colour", hidden: true },
    h("p", { class: "colour-text" }, t("colours_title")));
  // The prompt sits under the picture, so it never hides the face the person is watching.
  cameraStage("prompts", null,
    h("div", { class: "below" }, session.promptCard, button(t("restart"), restart, "secondary", { id: "restart" })));
  main.append(session.colourLayer);
  const where = locate().then((fix) => { if (session) session.gps = fix; });
  let frames;
  try {
    frames = await perform({ ...session, onStage: stageView, signal: session.abort.signal });
  } catch (error) {
    if (error instanceof Aborted) return;
    throw error;
  }
  hush();
  // Waits at most for the location request's own timeout.
  await where;
  const parts = { challenge: session.challenge, id: session.id, frames, gps: session.gps };
  endSession();
  setBusy(true);
  try {
    await sendScreen(parts);
  } finally {
    setBusy(false);
  }
}

function restart() {
  session.abort.abort();
  hush();
  previewScreen();
}

async function sendScreen(parts) {
  const status = h("p", { class: "msg msg-info", id: "upload-status", role: "status", "aria-live": "polite" }, t("uploading"));
  show("upload", h("h1", { class: "centre" }, t("uploading_title")), h("div", { class: "spinner", "aria-hidden": "true" }), status);
  let accepted;
  try {
    accepted = await upload(parts, (n) => {
      status.textContent = t("upload_retry", { n });
      status.dataset.retry = String(n);
    });
  } catch (error) {
    const reasons = error instanceof api.ApiError ? error.reasons() : [];
    if (reasons.includes("challenge_expired") || reasons.includes("challenge_used")) {
      return prepareScreen(t("expired"));
    }
    if (reasons.includes("locked_out")) return go("#/home");
    const failed = () => {
      show("upload", message(t("upload_failed"), "error"),
        button(t("upload_again"), () => sendScreen(parts), "big", { id: "upload-again" }),
        button(t("home"), () => go("#/home"), "secondary"));
      redraw = failed;
    };
    return failed();
  }
  show("checking", h("h1", { class: "centre" }, t("checking_title")), h("div", { class: "spinner", "aria-hidden": "true" }), message(t("checking")));
  const outcome = await verdict(accepted.id).catch(() => null);
  if (!outcome) {
    return show("checking", message(t("checking_slow")), button(t("home"), () => go("#/home"), "primary"));
  }
  const me = await api.home().then((r) => r.body).catch(() => null);
  verdictScreen(outcome, me);
}

function verdictScreen(outcome, me) {
  drawVerdict(outcome, me);
  redraw = () => verdictScreen(outcome, me);
}

function drawVerdict(outcome, me) {
  const lang = language();
  const words = lang === "zh" ? outcome.message.zh : outcome.message.en;
  if (outcome.status === "verified") {
    return show("verified", svg(ICONS.ok), h("h1", {}, t("verified_title")),
      me?.covered_until && h("p", { class: "msg msg-ok" }, t("verified_until", { date: formatDate(me.covered_until) })),
      button(t("home"), () => go("#/home"), "big", { id: "done" }));
  }
  if (outcome.status === "review") {
    return show("review", svg(ICONS.person), h("h1", {}, t("review_title")), h("p", {}, t("review_body")),
      button(t("home"), () => go("#/home"), "big", { id: "done" }));
  }
  const locked = me?.locked_until;
  show("rejected", svg(ICONS.retry), h("h1", {}, t("rejected_title")),
    h("p", {}, words),
    locked ? message(t("locked", { time: formatTime(locked) }), "error") : message(t(`tip_${outcome.message.code}`), "due"),
    locked ? null : button(t("try_again"), () => go("#/prepare"), "big", { id: "try-again" }),
    button(t("home"), () => go("#/home"), "secondary", { id: "done" }));
}

// --- routing -----------------------------------------------------------------------------------

function render() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  if (session && path !== "/checkin") endSession();
  const signedIn = Boolean(api.token.get());
  if (path === "/activate") return activationScreen(params);
  if (path === "/consent") return consentScreen();
  if (path === "/refused") return refusedScreen();
  if (!signedIn) return go("#/activate");
  if (path === "/prepare") return prepareScreen();
  if (path === "/history") return historyScreen();
  if (path === "/notices") return noticesScreen();
  if (path === "/mydata") return myDataScreen();
  if (path === "/withdraw") return withdrawScreen();
  return homeScreen();
}

langButton.addEventListener("click", () => {
  if (busy) return;
  setLanguage(language() === "zh" ? "en" : "zh");
  if (redraw) redraw();
  else render();
});

async function boot() {
  setLanguage(language());
  await loadMessages();
  window.addEventListener("hashchange", render);
  render();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js", { scope: "/m/" }).catch(() => {});
  }
}

boot();
