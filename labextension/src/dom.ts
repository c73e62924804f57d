/**
 * The one way the extension makes DOM: user strings only ever go in through `textContent`, never
 * as HTML, so a run name like `<img onerror=…>` shows as text.
 */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}
