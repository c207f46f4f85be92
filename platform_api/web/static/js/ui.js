// Small DOM helpers. Text always goes in as text (textContent), never as HTML.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let toastTimer = null;

export function toast(message) {
  const box = $("#toast");
  if (!box) return;
  box.textContent = message;
  box.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove("show"), 5000);
}

const dateFormat = new Intl.DateTimeFormat("fr-FR", { dateStyle: "medium", timeStyle: "short" });
const dayFormat = new Intl.DateTimeFormat("fr-FR", { dateStyle: "medium" });

export function fmtDate(value, withTime = true) {
  if (!value) return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? "—" : (withTime ? dateFormat : dayFormat).format(d);
}

export function pct(value, digits = 0) {
  if (value === null || value === undefined) return "—";
  return (value * 100).toFixed(digits).replace(".", ",") + " %";
}

export function plural(n, one, many) {
  return `${n} ${n > 1 ? many : one}`;
}

export const LEVELS = { premiere: "Première", terminale: "Terminale" };
export const ROLES = { student: "Élève", parent: "Parent", teacher: "Enseignant·e", admin: "Administrateur·rice" };

/** Show an API error on a form: a summary at the top, and each field marked invalid with its message. */
export function showFormError(form, error) {
  let box = form.querySelector(".form-error");
  if (!box) {
    box = h("div", { class: "form-error", role: "alert", tabindex: "-1" });
    form.prepend(box);
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  box.textContent = error.message || String(error);
  for (const f of error.fields || []) {
    const name = Array.isArray(f.loc) ? f.loc[f.loc.length - 1] : f.field;
    const input = name && form.querySelector(`[name="${CSS.escape(String(name))}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      const id = input.id + "-error";
      input.setAttribute("aria-describedby", id);
      input.after(h("p", { class: "field-error", id, text: f.msg || f.message || "Valeur invalide." }));
    }
  }
  box.focus();
}

export function clearFormError(form) {
  form.querySelector(".form-error")?.remove();
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/** Disable a button while a promise runs; its label says what happens. */
export async function busy(button, label, work) {
  const before = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  if (label) button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = before;
  }
}

export function progressBar(value, label) {
  const percent = Math.round((value || 0) * 100);
  return h("progress", { max: 100, value: percent, "aria-label": label, title: `${percent} %` }, `${percent} %`);
}

export function emptyState(text) {
  return h("p", { class: "empty", text });
}

export function loading(text = "Chargement…") {
  return h("p", { class: "loading", role: "status", text });
}

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * A horizontal bar chart as inline SVG: one bar per item, values in [0, 1] shown as percentages.
 * The chart has a title and a text description; the same figures are listed for screen readers.
 */
export function barChart(items, { title, unit = "pct", max = 1 } = {}) {
  // Each row: the label on its own line, the bar under it, the value at the bar's end. Horizontal sizes are
  // percentages and the text is not scaled, so the chart stays readable from a phone to a wide screen.
  const rowH = 50;
  const height = Math.max(rowH * items.length, 40);
  const id = "chart-" + Math.random().toString(36).slice(2, 8);
  const svg = s("svg", { width: "100%", height, class: "chart", role: "img", "aria-labelledby": id });
  svg.append(s("title", { id }, title || "Graphique"));
  const track = 84; // percent of the width
  // SVG text does not wrap: cut labels to what the chart's likely width holds (full width on a phone, half above).
  const room = window.innerWidth < 768 ? window.innerWidth - 72 : Math.min(window.innerWidth, 1180) / 2 - 90;
  const maxChars = Math.max(24, Math.floor(room / 8.2));
  items.forEach((item, i) => {
    const y = i * rowH;
    const value = Math.max(0, Math.min(item.value ?? 0, max));
    const label = item.label.length > maxChars ? item.label.slice(0, maxChars - 1) + "…" : item.label;
    const text = s("text", { x: 0, y: y + 16, class: "chart-label" }, label);
    if (label !== item.label) text.append(s("title", {}, item.label));
    svg.append(text);
    svg.append(s("rect", { x: 0, y: y + 24, width: `${track}%`, height: 16, rx: 4, class: "chart-track" }));
    const tone = item.tone ? `chart-bar ${item.tone}` : "chart-bar";
    const w = (track * value) / max;
    svg.append(s("rect", { x: 0, y: y + 24, width: `${value > 0 ? Math.max(w, 0.6) : 0}%`, height: 16, rx: 4, class: tone }));
    const shown = unit === "pct" ? pct(item.value) : String(item.value ?? "—");
    svg.append(s("text", { x: `${track + 2}%`, y: y + 37, class: "chart-value" }, shown));
  });
  const figure = h("figure", { class: "chart-figure" }, svg);
  const list = h("ul", { class: "sr-only" }, items.map((it) => h("li", {}, `${it.label} : ${unit === "pct" ? pct(it.value) : it.value}`)));
  figure.append(list);
  return figure;
}

/** A column chart of scores over time (values in [0, 1]), inline SVG with the same unscaled text. */
export function columnChart(items, { title } = {}) {
  const height = 200;
  const pad = 28;
  const id = "chart-" + Math.random().toString(36).slice(2, 8);
  const svg = s("svg", { width: "100%", height, class: "chart", role: "img", "aria-labelledby": id });
  svg.append(s("title", { id }, title || "Graphique"));
  for (const t of [0, 0.5, 1]) {
    const y = height - pad - t * (height - 2 * pad);
    svg.append(s("line", { x1: "12%", x2: "100%", y1: y, y2: y, class: "chart-grid" }));
    svg.append(s("text", { x: 0, y: y + 4, class: "chart-value" }, `${t * 100} %`));
  }
  const n = Math.max(items.length, 1);
  const slot = Math.min(86 / n, 14); // percent of the width per column
  items.forEach((item, i) => {
    const v = Math.max(0, Math.min(item.value ?? 0, 1));
    const barH = v * (height - 2 * pad);
    const x = 13 + i * slot + slot * 0.2;
    svg.append(s("rect", { x: `${x}%`, y: height - pad - barH, width: `${slot * 0.6}%`, height: Math.max(barH, 2), rx: 3, class: v >= 0.5 ? "chart-bar" : "chart-bar warn" }));
    svg.append(s("text", { x: `${x + slot * 0.3}%`, y: height - 8, class: "chart-value", "text-anchor": "middle" }, item.short || String(i + 1)));
  });
  const figure = h("figure", { class: "chart-figure" }, svg);
  figure.append(h("ul", { class: "sr-only" }, items.map((it) => h("li", {}, `${it.label} : ${pct(it.value)}`))));
  return figure;
}

export function statusBadge(status) {
  const labels = {
    queued: "En file d'attente",
    processing: "Indexation…",
    running: "Indexation…",
    ready: "Prêt",
    succeeded: "Prêt",
    failed: "Échec",
    completed: "Terminé",
    in_progress: "En cours",
    submitted: "Rendu",
    graded: "Corrigé",
  };
  return h("span", { class: `badge badge-${status}`, text: labels[status] || status });
}
