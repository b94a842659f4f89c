// One check-in: hold still, each prompt in turn, the colour phase, then the upload and the verdict.
// The windows are generous (frail elders, no tight timer); frames are taken late in each window,
// when the person has had time to hear the prompt and move.
import { ApiError, NetworkError, checkinStatus, submitCheckin } from "./api.js";
import { captureFrame } from "./camera.js";

export const HOLD_MS = 1500;
export const HOLD_FRAMES_AT = [600, 1200];
// The worker counts an action only as motion: beyond its limit in consecutive frames of the prompt,
// and back at rest after it. Three frames while the person holds it, one once they are back.
export const ACTION_MS = 5000;
export const ACTION_FRAMES_AT = [2000, 2700, 3400, 4600];
// Colour phase: skip the camera's latency at the start of each step (the contract's ~200 ms).
const COLOUR_FRAMES_AT = [0.36, 0.72];
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 8000, 8000];
const POLL_MS = 1500;
const POLL_PATIENCE_MS = 180000;
export const APP_VERSION = "1.0.0";

export class Aborted extends Error {}

function sleepUntil(deadline, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Aborted());
    const timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new Aborted());
    }, { once: true });
  });
}

// Plays the challenge: onStage({kind: "hold"|"action"|"colour", ...}) updates the screen.
export async function perform({ challenge, video, canvas, onStage, signal }) {
  const frames = [];
  const pending = [];
  const capture = (action, colour) => {
    const capturedAt = new Date().toISOString();
    // toBlob snapshots the canvas now and encodes in the background.
    pending.push(captureFrame(video, canvas).then((blob) => frames.push({ blob, captured_at: capturedAt, action, colour })));
  };
  const step = async (ms, at, stage, action, colour) => {
    const start = performance.now();
    onStage(stage);
    for (const offset of at) {
      await sleepUntil(start + offset, signal);
      capture(action, colour);
    }
    await sleepUntil(start + ms, signal);
  };

  await step(HOLD_MS, HOLD_FRAMES_AT, { kind: "hold" }, null, null);
  for (const [index, prompt] of challenge.actions.entries()) {
    const stage = { kind: "action", prompt, index, total: challenge.actions.length };
    await step(ACTION_MS, ACTION_FRAMES_AT, stage, prompt.action, null);
  }
  // The colour-light challenge, when the server sets one: the face must reflect each colour in turn.
  if (challenge.light?.colours?.length) {
    const stepMs = challenge.light.step_ms;
    for (const colour of challenge.light.colours) {
      await step(stepMs, COLOUR_FRAMES_AT.map((share) => share * stepMs), { kind: "colour", colour }, null, colour);
    }
  }
  await Promise.all(pending);
  frames.sort((a, b) => a.captured_at.localeCompare(b.captured_at));
  return frames;
}

export function clientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function locate() {
  // A fix if the person allows it; the check-in goes ahead without one.
  return new Promise((resolve) => {
    if (!("geolocation" in navigator)) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve({
        lat: pos.coords.latitude,
        lon: pos.coords.longitude,
        accuracy_m: pos.coords.accuracy,
        fix_time: new Date(pos.timestamp).toISOString(),
        provider: "browser",
      }),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });
}

function deviceInfo() {
  const ua = navigator.userAgent;
  const os = (ua.match(/\(([^)]*)\)/) || [, navigator.platform])[1] || "";
  return { model: (navigator.userAgentData?.platform || navigator.platform || "").slice(0, 100), os: os.slice(0, 100), app_version: APP_VERSION };
}

export function buildForm({ challenge, id, frames, gps }) {
  const form = new FormData();
  const metadata = {
    challenge_id: challenge.id,
    client_id: id,
    frames: frames.map(({ captured_at, action, colour }) => ({ captured_at, action, colour })),
    gps,
    device: deviceInfo(),
  };
  form.append("metadata", JSON.stringify(metadata));
  frames.forEach((frame, i) => form.append("frames", frame.blob, `${i}.jpg`));
  return form;
}

// Sends the check-in; a dropped connection or a busy server is retried with the same client id, which
// the API answers with the same check-in (never a second one). onRetry(n) tells the person.
export async function upload(parts, onRetry) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return (await submitCheckin(buildForm(parts))).body;
    } catch (error) {
      const transient = error instanceof NetworkError || (error instanceof ApiError && error.status >= 500);
      if (!transient || attempt >= RETRY_DELAYS_MS.length) throw error;
      onRetry(attempt + 2);
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt]));
    }
  }
}

// Polls until the worker decides; null if it takes longer than the person should wait here.
export async function verdict(id) {
  const until = performance.now() + POLL_PATIENCE_MS;
  while (performance.now() < until) {
    try {
      const status = (await checkinStatus(id)).body;
      if (status.status !== "pending") return status;
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return null;
}
