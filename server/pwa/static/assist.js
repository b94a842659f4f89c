// An assisted check-in during a home visit: the field worker holds the phone for the person, online only
// (a challenge lives about two minutes), with the visit's id in the challenge so the verdict is linked to
// it. The same capture flow as the person's own phone (checkin.js), labelled as assisted throughout.
import * as api from "./api.js";
import { closeCamera, openCamera, watchPicture } from "./camera.js";
import { Aborted, clientId, locate, perform, upload, verdict } from "./checkin.js";
import { h, svg } from "./dom.js";
import { ICONS } from "./icons.js";
import { language, t } from "./i18n.js";
import { hush, speak } from "./speech.js";

// keep(draw) lets the app draw a verdict again in the other language; words() gives its text in the current one.
export async function assistedCheckin({ main, show, keep, visit, done }) {
  const label = () => h("p", { class: "assisted-label", id: "assisted-label" }, t("f_assisted_label"));
  const finish = (kind, words) => {
    const draw = () => show(`assist-${kind}`, label(), svg(kind === "verified" ? ICONS.ok : ICONS.retry),
      h("h1", {}, words()), h("button", { type: "button", class: "btn btn-big", id: "assist-done", onclick: done }, t("back")));
    document.body.classList.remove("in-session");
    draw();
    keep(draw);
  };
  let challenge;
  try {
    challenge = (await api.assistedChallenge(visit.beneficiary_id, visit.visit_id)).body;
  } catch (error) {
    const reasons = error instanceof api.ApiError ? error.reasons() : [];
    const why = error instanceof api.NetworkError ? "f_offline_needed"
      : reasons.includes("not_enrolled") ? "f_assist_not_enrolled" : "server_error";
    return finish("failed", () => t(why));
  }
  const video = h("video", { id: "preview", playsinline: true, muted: true, autoplay: true, "aria-label": t("video_label") });
  const canvas = h("canvas", { hidden: true });
  let stream;
  try {
    stream = await openCamera(video);
  } catch {
    return finish("failed", () => t("camera_missing"));
  }
  const card = h("div", { class: "prompt-card", id: "prompt", role: "status", "aria-live": "assertive" }, t("f_assist_ready"));
  const colourLayer = h("div", { class: "colour-layer", id: "colour", hidden: true }, h("p", { class: "colour-text" }, t("colours_title")));
  // What the person's own phone says before the capture, for the field worker holding it: a dim room is the
  // usual home visit, and a check-in rejected as too dark counts towards the person's lockout.
  const hint = h("p", { class: "hint", id: "hint", role: "status", "aria-live": "polite" }, t("hint_wait"));
  const controller = new AbortController();
  let stopHint = () => {};
  const run = async () => {
    stopHint();
    hint.remove();
    startButton.remove();
    const lang = language();
    const onStage = (stage) => {
      if (stage.kind === "colour") {
        colourLayer.style.background = stage.colour;
        colourLayer.hidden = false;
        return;
      }
      const text = stage.kind === "hold" ? t("hold_still") : lang === "zh" ? stage.prompt.prompt_zh : stage.prompt.prompt_en;
      if (stage.prompt) card.dataset.action = stage.prompt.action;
      card.replaceChildren(svg(ICONS[stage.prompt?.action] || ICONS.hold), h("p", { class: "prompt" }, text));
      speak(text, lang);
    };
    const gps = locate();
    let frames;
    try {
      frames = await perform({ challenge, video, canvas, onStage, signal: controller.signal });
    } catch (error) {
      if (error instanceof Aborted) return;
      throw error;
    } finally {
      closeCamera(stream);
      hush();
    }
    show("assist-upload", label(), h("h1", { class: "centre" }, t("uploading_title")), h("div", { class: "spinner", "aria-hidden": "true" }));
    try {
      const accepted = await upload({ challenge, id: clientId(), frames, gps: await gps }, () => {});
      show("assist-checking", label(), h("h1", { class: "centre" }, t("checking_title")), h("div", { class: "spinner", "aria-hidden": "true" }));
      const outcome = await verdict(accepted.id);
      if (outcome?.status === "verified") return finish("verified", () => t("f_assist_verified"));
      if (outcome?.status === "review") return finish("review", () => t("review_title"));
      const said = () => (language() === "zh" ? outcome.message.zh : outcome.message.en);
      return finish("rejected", outcome ? said : () => t("checking_slow"));
    } catch {
      return finish("failed", () => t("upload_failed"));
    }
  };
  const startButton = h("button", { type: "button", class: "btn btn-big", id: "start", onclick: run }, t("start"));
  show("assist", label(), h("div", { class: "camera" }, video, h("div", { class: "oval", "aria-hidden": "true" })),
    h("div", { class: "below" }, hint, card, startButton,
      h("button", { type: "button", class: "btn btn-secondary", onclick: () => { stopHint(); controller.abort(); closeCamera(stream); done(); } }, t("back"))));
  stopHint = watchPicture(video, hint);
  main.append(colourLayer);
  // The camera, the prompts and the upload are not drawn again: the language stays put until the verdict.
  document.body.classList.add("in-session");
  if (video.paused) video.play().catch(() => {});
}
