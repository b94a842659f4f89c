// The FieldCheck API as the phone uses it. The token (a device's, or a field worker's for the shift) is
// kept on the phone only; each app keeps its own.
const BASE = "/api/v1";
let tokenKey = "fc.token";

export function useTokenKey(key) {
  tokenKey = key;
}

export class NetworkError extends Error {}

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
  let response;
  try {
    response = await fetch(BASE + path, { method, headers, body, cache: "no-store" });
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
