// The front camera: a mirrored preview for the person, raw frames for the server, and a plain-word
// picture check (brightness, and a skin-colour blob for face size and position; no face model).
import { t } from "./i18n.js";

// Frames leave the phone at most this size (longer side) and JPEG quality: see README for the figures.
export const FRAME_LONG_SIDE = 480;
export const JPEG_QUALITY = 0.7;

export async function openCamera(video) {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: false,
    video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } },
  });
  video.srcObject = stream;
  video.muted = true;
  video.setAttribute("playsinline", "");
  await video.play();
  return stream;
}

export function closeCamera(stream) {
  for (const track of stream?.getTracks() || []) track.stop();
}

// The raw camera frame (never the mirrored preview) as a JPEG blob.
export function captureFrame(video, canvas) {
  const scale = Math.min(1, FRAME_LONG_SIDE / Math.max(video.videoWidth, video.videoHeight));
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("no frame"))), "image/jpeg", JPEG_QUALITY),
  );
}

const PROBE_W = 64;
const PROBE_H = 48;

// Direct sunlight: bright skin with part of the face washed out to white. The screen's colours then cannot be
// seen on the face, and the server sends such a check-in to a person (light_unmeasurable). Brightness alone
// is not sunlight: on the East Asian development set's portraits (fair skin, studio light; each thumbnailed
// whole) a quarter of the faces are as bright as the suite's faces filmed in the sun, but both limits together
// hold for 1.6% of the portraits, and for three of those four faces in the sun.
const SUNLIT_SKIN_LUMA = 175;
const SUNLIT_WASHED_OUT_SHARE = 0.05;
// Where the oval guide puts the face in the thumbnail: rows and columns, end exclusive.
const CENTRE = { top: 10, bottom: 38, left: 20, right: 44 };
const CENTRE_PIXELS = (CENTRE.bottom - CENTRE.top) * (CENTRE.right - CENTRE.left);

// Keeps `hint` saying in words what the picture check finds, while the person gets ready; returns the
// function that stops it (when the capture starts, or the person goes back).
export function watchPicture(video, hint) {
  const probe = document.createElement("canvas");
  const update = () => {
    const found = pictureHint(video, probe);
    hint.textContent = t(found ? `hint_${found}` : "hint_wait");
    hint.dataset.hint = found || "";
  };
  update();
  const timer = setInterval(update, 400);
  return () => clearInterval(timer);
}

// "dark", "bright", "small", "side", "ok" or null (no picture yet), from a 64×48 thumbnail of the frame.
function pictureHint(video, canvas) {
  if (!video.videoWidth) return null;
  canvas.width = PROBE_W;
  canvas.height = PROBE_H;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(video, 0, 0, PROBE_W, PROBE_H);
  const { data } = context.getImageData(0, 0, PROBE_W, PROBE_H);
  let luma = 0;
  let washedOut = 0;
  let skin = 0;
  let skinLuma = 0;
  let sumX = 0;
  for (let i = 0, p = 0; i < data.length; i += 4, p += 1) {
    const r = data[i];
    const g = data[i + 1];
    const b = data[i + 2];
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    luma += y;
    const row = Math.floor(p / PROBE_W);
    const column = p % PROBE_W;
    const central = row >= CENTRE.top && row < CENTRE.bottom && column >= CENTRE.left && column < CENTRE.right;
    if (central && y >= 245) washedOut += 1;
    // The classic YCbCr skin box: wide enough for most skin tones under indoor light.
    const cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
    const cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
    if (y > 40 && cb >= 77 && cb <= 127 && cr >= 133 && cr <= 173) {
      skin += 1;
      skinLuma += y;
      sumX += column;
    }
  }
  const pixels = PROBE_W * PROBE_H;
  if (luma / pixels < 60) return "dark";
  // Before the face size: a face in the sun still shows enough skin, and the light is what to change first.
  const bright = skin / pixels >= 0.06 && skinLuma / skin > SUNLIT_SKIN_LUMA;
  if (bright && washedOut / CENTRE_PIXELS > SUNLIT_WASHED_OUT_SHARE) return "bright";
  if (skin / pixels < 0.06) return "small";
  // The raw frame is not mirrored, but left or right alike is "off to one side".
  if (Math.abs(sumX / skin - PROBE_W / 2) > PROBE_W * 0.18) return "side";
  return "ok";
}

// A photo from the phone's camera app (a file input with `capture`), shrunk on the phone before it is
// stored or sent: the field worker's upload is the evening's weak signal.
export const PHOTO_LONG_SIDE = 1280;
export const PHOTO_QUALITY = 0.8;

export async function compressPhoto(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, PHOTO_LONG_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("no photo"))), "image/jpeg", PHOTO_QUALITY),
  );
}
