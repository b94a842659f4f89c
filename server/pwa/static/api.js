// The FieldCheck API as the phone uses it. The device token is kept on the phone only.
const BASE = "/api/v1";

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
  get: () => localStorage.getItem("fc.token"),
  set: (value) => localStorage.setItem("fc.token", value),
  clear: () => localStorage.removeItem("fc.token"),
};

export async function request(method, path, { json, form } = {}) {
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
  const data = response.headers.get("Content-Type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, data, response.headers);
  return { status: response.status, body: data };
}

export const consentText = () => request("GET", "/consent/biometric");
export const activate = (code, consentVersion) =>
  request("POST", "/devices/activate", { json: { code, consent_version: consentVersion } });
export const home = () => request("GET", "/me/home");
export const newChallenge = () => request("POST", "/checkin-challenges", { json: {} });
export const submitCheckin = (form) => request("POST", "/checkins", { form });
export const checkinStatus = (id) => request("GET", `/checkins/${id}`);
