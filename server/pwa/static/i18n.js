// Simplified Chinese first, English second; the choice is kept on the phone.
let catalogue = { zh: {}, en: {} };
let lang = localStorage.getItem("fc.lang") || "zh";

// The phone app's catalogue, plus any an app adds on top (the field app's own words).
export async function loadMessages(...extra) {
  for (const url of ["messages.json", ...extra]) {
    const more = await (await fetch(url)).json();
    catalogue = { zh: { ...catalogue.zh, ...more.zh }, en: { ...catalogue.en, ...more.en } };
  }
}

export function language() {
  return lang;
}

export function setLanguage(value) {
  lang = value === "en" ? "en" : "zh";
  localStorage.setItem("fc.lang", lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export function t(key, vars = {}) {
  const text = catalogue[lang][key] ?? catalogue.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

// A local date ("2026-12-31") the way people write it: 2026年12月31日 / 31 December 2026.
export function formatDate(isoDate) {
  const [y, m, d] = isoDate.slice(0, 10).split("-").map(Number);
  if (lang === "zh") return `${y}年${m}月${d}日`;
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
}

// An instant in the phone's own time zone: 12月1日 15:30 / 1 December, 15:30.
export function formatTime(isoInstant) {
  const when = new Date(isoInstant);
  const hm = when.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  if (lang === "zh") return `${when.getMonth() + 1}月${when.getDate()}日 ${hm}`;
  return `${when.toLocaleDateString("en-GB", { day: "numeric", month: "long" })}, ${hm}`;
}
