// The FieldCheck API as the phone uses it. The token (a device's, or a field worker's for the shift) is
// kept on the phone only; each app keeps its own.
const BASE = "/api/v1";
let tokenKey = "fc.token";

export function useTokenKey(key) {
  tokenKey = key;
}

export class NetworkError extends Error {}

// A request that has had no answer this long is given up as a failed network: a weak rural signal can keep a
// connection open and carry nothing, and the browser would wait minutes. The callers then retry (a check-in
// with the same client id, which the server answers with the same check-in) or tell the person.
const ANSWER_WITHIN_MS = 30000;
// An upload is given, on top, the time its bytes take at 32 kbit/s (a GPRS line), so a slow line that is
// moving is not cut off: 4 bytes a millisecond.
const UPLOAD_BYTES_PER_MS = 4;

function bodyBytes(body) {
  if (typeof body === "string") return new Blob([body]).size;
  if (!(body instanceof FormData)) return 0;
  let total = 0;
  for (const [, value] of body) total += typeof value === "string" ? value.length : value.size;
  return total;
}

export class ApiError extends Error {
  constructor(status, body, headers) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.headers = headers;
  }

  reasons() {
    return Object.values(this.body.errors || {}).flat().filter((r) => typeof r === "string");
  }
}

export const token = {
  get: () => localStorage.getItem(tokenKey),
  set: (value) => localStorage.setItem(tokenKey, value),
  clear: () => localStorage.removeItem(tokenKey),
};

export async function request(method, path, { json, form, blob = false } = {}) {
  const headers = {};
  const bearer = token.get();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  // The timer covers the answer's body too: it can stall after its headers.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ANSWER_WITHIN_MS + bodyBytes(body) / UPLOAD_BYTES_PER_MS);
  try {
    let response;
    try {
      response = await fetch(BASE + path, { method, headers, body, cache: "no-store", signal: abort.signal });
    } catch (error) {
      throw new NetworkError(String(error));
    }
    const isJson = response.headers.get("Content-Type")?.includes("json");
    let data = null;
    try {
      if (blob && response.ok && !isJson) return { status: response.status, body: await response.blob() };
      if (isJson) data = await response.json();
    } catch (error) {
      // The answer broke off on the way (the signal went): the server may well have acted on the request.
      throw new NetworkError(String(error));
    }
    if (!response.ok) throw new ApiError(response.status, data, response.headers);
    return { status: response.status, body: data };
  } finally {
    clearTimeout(timer);
  }
}

export const consentText = () => request("GET", "/consent/biometric");
export const activate = (code, consentVersion) =>
  request("POST", "/devices/activate", { json: { code, consent_version: consentVersion } });
export const home = () => request("GET", "/me/home");
export const myData = () => request("GET", "/me/data");
export const withdrawConsent = () => request("POST", "/me/consent/withdrawal");
export const newChallenge = () => request("POST", "/checkin-challenges", { json: {} });
export const submitCheckin = (form) => request("POST", "/checkins", { form });
export const checkinStatus = (id) => request("GET", `/checkins/${id}`);

// The field worker's calls (staff token).
export const login = (username, password) => request("POST", "/auth/token", { json: { username, password } });
export const me = () => request("GET", "/me");
export const visitTasks = () => request("GET", "/visit-tasks?state=open&page_size=100");
export const roster = () => request("GET", "/visits/roster");
export const checklists = () => request("GET", "/visits/checklists");
export const syncVisits = (visits) =>
  request("POST", "/visits/sync", { json: { device_sent_at: new Date().toISOString(), visits } });
export const visit = (id) => request("GET", `/visits/${id}`);
export const visitPhotos = (id, form) => request("POST", `/visits/${id}/photos`, { form });
export const enrolmentPhotos = (id, form, replace) =>
  request("POST", `/beneficiaries/${id}/photos?replace=${replace ? "true" : "false"}`, { form });
export const enrolment = (id) => request("GET", `/beneficiaries/${id}/enrolment`);
export const activationCode = (id) => request("POST", `/beneficiaries/${id}/devices`, { json: {} });
export const activationQr = (code) =>
  request("POST", "/devices/activation-qr", { json: { code, format: "svg" }, blob: true });
export const assistedChallenge = (beneficiaryId, visitId) =>
  request("POST", "/checkin-challenges", { json: { beneficiary_id: beneficiaryId, visit_id: visitId } });
