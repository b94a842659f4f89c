// Spoken prompts: the browser's own speech synthesis where there is one; the text on screen always.
export function speak(text, lang) {
  if (!("speechSynthesis" in window) || typeof SpeechSynthesisUtterance === "undefined") return;
  try {
    window.speechSynthesis.cancel();
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = lang === "en" ? "en-US" : "zh-CN";
    // Slower than usual: many listeners are old and hard of hearing.
    utterance.rate = 0.85;
    window.speechSynthesis.speak(utterance);
  } catch {
    // Speech is a help, not a requirement: the prompt is on screen.
  }
}

export function hush() {
  if ("speechSynthesis" in window) window.speechSynthesis.cancel();
}
