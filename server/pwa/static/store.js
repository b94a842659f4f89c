// What the field app keeps on the phone, in IndexedDB (through the vendored `idb`): the round's data
// (tasks, the region's people, the checklists), the visits not yet synced and their photos. Logout
// deletes the whole database.
import { deleteDB, openDB } from "./vendor/idb/index.js";

const NAME = "fieldcheck-field";
let opened = null;

function db() {
  opened ??= openDB(NAME, 1, {
    upgrade(database) {
      database.createObjectStore("meta");
      const visits = database.createObjectStore("visits", { keyPath: "client_id" });
      visits.createIndex("state", "state");
      const photos = database.createObjectStore("photos", { keyPath: "id", autoIncrement: true });
      photos.createIndex("client_id", "client_id");
    },
  });
  return opened;
}

export async function getMeta(key) {
  return (await db()).get("meta", key);
}

export async function setMeta(key, value) {
  return (await db()).put("meta", value, key);
}

// The round's data in one transaction, so a half-finished download never mixes with the old one.
export async function saveRound(round) {
  const tx = (await db()).transaction("meta", "readwrite");
  await Promise.all([...Object.entries(round).map(([key, value]) => tx.store.put(value, key)), tx.done]);
}

export async function visits() {
  const all = await (await db()).getAll("visits");
  return all.sort((a, b) => b.started_at.localeCompare(a.started_at));
}

export async function getVisit(clientId) {
  return (await db()).get("visits", clientId);
}

export async function putVisit(visit) {
  return (await db()).put("visits", visit);
}

// A saved visit and its photos land together: a visit is never queued without the photos taken with it.
export async function saveVisit(visit, blobs) {
  const tx = (await db()).transaction(["visits", "photos"], "readwrite");
  const photos = tx.objectStore("photos");
  await Promise.all([
    tx.objectStore("visits").put(visit),
    ...blobs.map((blob) => photos.add({ client_id: visit.client_id, blob })),
    tx.done,
  ]);
}

export async function photosOf(clientId) {
  return (await db()).getAllFromIndex("photos", "client_id", clientId);
}

export async function dropPhotos(ids) {
  const tx = (await db()).transaction("photos", "readwrite");
  await Promise.all([...ids.map((id) => tx.store.delete(id)), tx.done]);
}

export async function wipe() {
  if (opened) (await opened).close();
  opened = null;
  await deleteDB(NAME);
}
