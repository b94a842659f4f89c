// Large line icons for each prompt: arrows point the way the person turns in the mirrored preview.
const face = '<ellipse cx="50" cy="50" rx="26" ry="32" fill="none" stroke="currentColor" stroke-width="5"/>';
export const ICONS = {
  blink: `<svg viewBox="0 0 100 100">${face}<path d="M34 44q6 5 12 0M54 44q6 5 12 0" stroke="currentColor" stroke-width="5" fill="none" stroke-linecap="round"/><path d="M42 66h16" stroke="currentColor" stroke-width="5" stroke-linecap="round"/></svg>`,
  turn_left: `<svg viewBox="0 0 100 100">${face}<path d="M20 50H4m0 0l10-10M4 50l10 10" stroke="currentColor" stroke-width="6" fill="none" stroke-linecap="round" stroke-linejoin="round"/><circle cx="40" cy="44" r="4" fill="currentColor"/><circle cx="58" cy="44" r="4" fill="currentColor"/></svg>`,
  turn_right: `<svg viewBox="0 0 100 100">${face}<path d="M80 50h16m0 0L86 40m10 10L86 60" stroke="currentColor" stroke-width="6" fill="none" stroke-linecap="round" stroke-linejoin="round"/><circle cx="42" cy="44" r="4" fill="currentColor"/><circle cx="60" cy="44" r="4" fill="currentColor"/></svg>`,
  open_mouth: `<svg viewBox="0 0 100 100">${face}<circle cx="40" cy="42" r="4" fill="currentColor"/><circle cx="60" cy="42" r="4" fill="currentColor"/><ellipse cx="50" cy="66" rx="9" ry="8" fill="none" stroke="currentColor" stroke-width="5"/></svg>`,
  nod: `<svg viewBox="0 0 100 100">${face}<circle cx="40" cy="44" r="4" fill="currentColor"/><circle cx="60" cy="44" r="4" fill="currentColor"/><path d="M88 30v40m0 0l-8-9m8 9l8-9M88 30l-8 9m8-9l8 9" stroke="currentColor" stroke-width="5" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>`,
  hold: `<svg viewBox="0 0 100 100">${face}<circle cx="40" cy="44" r="4" fill="currentColor"/><circle cx="60" cy="44" r="4" fill="currentColor"/><path d="M40 64q10 6 20 0" stroke="currentColor" stroke-width="5" fill="none" stroke-linecap="round"/></svg>`,
  ok: '<svg viewBox="0 0 100 100"><circle cx="50" cy="50" r="44" fill="#1b7f3b"/><path d="M28 52l14 14 30-32" stroke="#fff" stroke-width="9" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  retry: '<svg viewBox="0 0 100 100"><circle cx="50" cy="50" r="44" fill="#a34a00"/><path d="M50 26v30" stroke="#fff" stroke-width="9" stroke-linecap="round"/><circle cx="50" cy="72" r="6" fill="#fff"/></svg>',
  person: '<svg viewBox="0 0 100 100"><circle cx="50" cy="50" r="44" fill="#0b4f9c"/><circle cx="50" cy="38" r="13" fill="#fff"/><path d="M26 76q24-30 48 0" fill="#fff"/></svg>',
};
