// A tiny element builder: text always goes in as text, never as HTML (server text included).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function svg(markup) {
  const holder = document.createElement("span");
  holder.className = "icon";
  holder.setAttribute("aria-hidden", "true");
  // Only the app's own constant icons pass through here.
  holder.innerHTML = markup;
  return holder;
}
