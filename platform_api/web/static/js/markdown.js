// Markdown of answers and course sections, rendered safely.
//
// 1. marked turns Markdown into HTML, with raw HTML in the Markdown escaped (shown as text, never parsed).
// 2. DOMPurify sanitises that HTML with a short allow-list: no script, style, image, form, iframe or SVG, no
//    event handler or style attribute, links only to http(s)/mailto and opened in a new tab without referrer.
// 3. Code blocks are highlighted by highlight.js from their text (it escapes what it highlights).
// 4. Citation chips [n] are built as DOM nodes after sanitising, only for numbers that name a source.
// Nothing from an answer or a document ever reaches innerHTML without going through DOMPurify.

import { Marked } from "/static/vendor/marked/marked.esm.js";
import hljs from "/static/vendor/highlight/core.min.js";
import python from "/static/vendor/highlight/languages/python.min.js";
import sql from "/static/vendor/highlight/languages/sql.min.js";
import bash from "/static/vendor/highlight/languages/bash.min.js";
import javascript from "/static/vendor/highlight/languages/javascript.min.js";

hljs.registerLanguage("python", python);
hljs.registerLanguage("sql", sql);
hljs.registerLanguage("bash", bash);
hljs.registerLanguage("javascript", javascript);
hljs.configure({ ignoreUnescapedHTML: true, languages: ["python", "sql", "bash", "javascript"] });

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

const marked = new Marked({ gfm: true, breaks: false, async: false });
marked.use({
  renderer: {
    html(token) {
      return escapeHtml(token.text || token.raw || "");
    },
    image(token) {
      return escapeHtml(token.text || "");
    },
  },
});

const ALLOWED_TAGS = [
  "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3", "h4",
  "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "span", "input",
];
const ALLOWED_ATTR = ["href", "title", "class", "align", "start", "type", "checked", "disabled"];

let hooked = false;

function purifier() {
  const purify = window.DOMPurify;
  if (!purify) throw new Error("DOMPurify manquant");
  if (!hooked) {
    purify.addHook("uponSanitizeAttribute", (node, data) => {
      // Classes only as marked writes them on code (language-xxx): an answer cannot dress itself as our UI.
      if (data.attrName === "class" && !(node.nodeName === "CODE" && /^language-[\w+-]+$/.test(data.attrValue))) {
        data.keepAttr = false;
      }
      // Only GFM task-list checkboxes survive, disabled.
      if (node.nodeName === "INPUT" && data.attrName === "type" && data.attrValue !== "checkbox") data.keepAttr = false;
    });
    purify.addHook("afterSanitizeAttributes", (node) => {
      if (node.nodeName === "A") {
        const href = node.getAttribute("href") || "";
        if (!/^(https?:|mailto:)/i.test(href)) node.removeAttribute("href");
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer nofollow");
      }
      if (node.nodeName === "INPUT") {
        if (node.getAttribute("type") !== "checkbox") node.remove();
        else node.setAttribute("disabled", "");
      }
    });
    hooked = true;
  }
  return purify;
}

/** Markdown to a sanitised DocumentFragment. */
export function safeFragment(markdown) {
  const html = marked.parse(String(markdown || ""));
  const fragment = purifier().sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    RETURN_DOM_FRAGMENT: true,
  });
  for (const code of fragment.querySelectorAll("pre code")) {
    const lang = (code.className.match(/language-([\w+-]+)/) || [])[1];
    if (lang && !hljs.getLanguage(lang)) code.className = "";
    hljs.highlightElement(code);
  }
  for (const pre of fragment.querySelectorAll("pre")) pre.setAttribute("tabindex", "0");
  return fragment;
}

const CITE = /\[(\d{1,2})\]/g;
const HAS_CITE = /\[\d{1,2}\]/;

/** Replace [n] in text nodes (outside code and links) with a button when ``sources`` has source n. */
export function linkCitations(root, sources, onCite) {
  const byN = new Map((sources || []).map((s) => [Number(s.n), s]));
  if (!byN.size) return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      return node.parentElement && node.parentElement.closest("pre, code, a, button")
        ? NodeFilter.FILTER_REJECT
        : NodeFilter.FILTER_ACCEPT;
    },
  });
  const nodes = [];
  while (walker.nextNode()) if (HAS_CITE.test(walker.currentNode.nodeValue)) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const text = node.nodeValue;
    const out = document.createDocumentFragment();
    let last = 0;
    for (const m of text.matchAll(CITE)) {
      const source = byN.get(Number(m[1]));
      if (!source) continue;
      out.append(text.slice(last, m.index));
      out.append(citeButton(source, onCite));
      last = m.index + m[0].length;
    }
    out.append(text.slice(last));
    node.replaceWith(out);
  }
}

export function sourceLabel(source) {
  const parts = [source.title, ...(source.section_path || [])].filter(Boolean);
  if (source.page) parts.push(`page ${source.page}`);
  return parts.join(" › ");
}

export function citeButton(source, onCite) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "cite";
  b.textContent = `[${source.n}]`;
  b.setAttribute("aria-label", `Source ${source.n} : ${sourceLabel(source)}`);
  b.title = sourceLabel(source);
  b.addEventListener("click", () => onCite(source, b));
  return b;
}

/** Render Markdown with its citations linked; returns the fragment. */
export function renderAnswer(markdown, sources, onCite) {
  const fragment = safeFragment(markdown);
  const holder = document.createElement("div");
  holder.append(fragment);
  linkCitations(holder, sources, onCite);
  const out = document.createDocumentFragment();
  out.append(...holder.childNodes);
  return out;
}

const OPEN = "\uE000";
const CLOSE = "\uE001";

/** A section's Markdown with [start, end) highlighted in <mark>; the passage's first mark is returned too. */
export function renderWithHighlight(markdown, range) {
  const text = String(markdown || "").replaceAll(OPEN, "").replaceAll(CLOSE, "");
  if (!range) return { fragment: safeFragment(text), first: null };
  let [start, end] = range;
  // Keep block syntax intact: start after a line's leading Markdown, end before a closing fence.
  const atLineStart = (i) => i === 0 || text[i - 1] === "\n";
  while (start < end) {
    const mm = atLineStart(start) ? text.slice(start, start + 200).match(/^(#{1,6} |> |[-*+] |\d+\. |```[^\n]*\n)/) : null;
    if (mm) start += mm[0].length;
    else if (/\s/.test(text[start])) start += 1;
    else break;
  }
  while (end > start && /```\s*$/.test(text.slice(start, end))) end = text.lastIndexOf("```", end - 1);
  const marked_ = text.slice(0, start) + OPEN + text.slice(start, end) + CLOSE + text.slice(end);
  const holder = document.createElement("div");
  holder.append(safeFragment(marked_));
  let inside = false;
  let first = null;
  const walker = document.createTreeWalker(holder, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const value = node.nodeValue;
    if (!inside && !value.includes(OPEN)) continue;
    const frag = document.createDocumentFragment();
    let buf = "";
    const flush = () => {
      if (!buf) return;
      if (inside) {
        const mark = document.createElement("mark");
        mark.textContent = buf;
        if (!first) first = mark;
        frag.append(mark);
      } else frag.append(buf);
      buf = "";
    };
    for (const ch of value) {
      if (ch === OPEN) {
        flush();
        inside = true;
      } else if (ch === CLOSE) {
        flush();
        inside = false;
      } else buf += ch;
    }
    flush();
    node.replaceWith(frag);
  }
  const fragment = document.createDocumentFragment();
  fragment.append(...holder.childNodes);
  return { fragment, first };
}

/** Plain text (a PDF page) with [start, end) highlighted. */
export function plainWithHighlight(text, range) {
  const pre = document.createElement("div");
  pre.className = "plain-text";
  let first = null;
  if (!range) pre.textContent = text;
  else {
    const mark = document.createElement("mark");
    mark.textContent = text.slice(range[0], range[1]);
    pre.append(text.slice(0, range[0]), mark, text.slice(range[1]));
    first = mark;
  }
  return { fragment: pre, first };
}
