// Sends what the phone recorded offline: visits and edits in batches to /visits/sync, then each synced
// visit's photos. Every item carries its client id, so sending a batch again after a dropped answer
// gives the same visits back (duplicate), never a second one.
import { ApiError, syncVisits, visitPhotos } from "./api.js";
import * as store from "./store.js";

export const BATCH = 20;
const SENDABLE = new Set(["queued", "edit_queued"]);

// What still has to reach the server: visits and edits not sent, conflicts to redo, photos of sent
// visits. A refused visit is not counted: sending it again would be refused again.
export function waiting(visits, photoCounts) {
  const photosLeft = (v) => v.state === "synced" && (photoCounts[v.client_id] || 0) > 0;
  return visits.filter((v) => SENDABLE.has(v.state) || v.state === "conflict" || photosLeft(v)).length;
}

function item(visit) {
  if (visit.state === "edit_queued") {
    return { client_id: visit.client_id, based_on_version: visit.edit.based_on_version, ...visit.edit.changes };
  }
  const { client_id, beneficiary_id, started_at, ended_at, gps, checklist_version, checklist, outcome, notes, device } = visit;
  return { client_id, beneficiary_id, started_at, ended_at, gps, checklist_version, checklist, outcome, notes, device };
}

function settle(visit, result) {
  const stale = result.status === "rejected" && Object.values(result.errors || {}).flat().includes("stale_version");
  if (stale) return { ...visit, state: "conflict", result };
  if (result.status === "rejected") return { ...visit, state: "rejected", result };
  const settled = { ...visit, state: "synced", result, visit_id: result.visit_id, version: result.version, flags: result.flags };
  if (visit.state === "edit_queued") {
    Object.assign(settled, visit.edit.changes);
    delete settled.edit;
  }
  return settled;
}

async function uploadPhotos(visit) {
  const photos = await store.photosOf(visit.client_id);
  if (!photos.length || !visit.visit_id) return;
  const form = new FormData();
  photos.forEach((p, i) => form.append("photos", p.blob, `${i}.jpg`));
  await visitPhotos(visit.visit_id, form);
  await store.dropPhotos(photos.map((p) => p.id));
}

// One pass: returns {sent, results: [{client_id, name, status, errors, flags}]}; throws NetworkError when
// the signal goes (what was settled before stays settled).
export async function syncAll(onProgress = () => {}) {
  const results = [];
  const pending = (await store.visits()).filter((v) => SENDABLE.has(v.state));
  for (let i = 0; i < pending.length; i += BATCH) {
    const batch = pending.slice(i, i + BATCH);
    const answer = (await syncVisits(batch.map(item))).body;
    for (const result of answer.results) {
      const visit = batch[result.index];
      await store.putVisit(settle(visit, result));
      results.push({ client_id: visit.client_id, name: visit.name, status: result.status, errors: result.errors, flags: result.flags });
    }
    onProgress(results.length, pending.length);
  }
  for (const visit of await store.visits()) {
    if (visit.state !== "synced") continue;
    try {
      await uploadPhotos(visit);
    } catch (error) {
      // A refused photo (not an image, too many) is reported and dropped; a busy server is tried next time.
      if (error instanceof ApiError && error.status < 500) {
        await store.putVisit({ ...visit, photo_errors: error.reasons() });
        await store.dropPhotos((await store.photosOf(visit.client_id)).map((p) => p.id));
      } else throw error;
    }
  }
  return { sent: pending.length, results };
}
