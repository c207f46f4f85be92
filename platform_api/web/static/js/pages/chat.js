// ARIA chat: answers stream in over SSE, citations open the cited passage in a side panel.
import { api, sse } from "/static/js/api.js";
import { plainWithHighlight, renderAnswer, renderWithHighlight, sourceLabel, citeButton } from "/static/js/markdown.js";
import { $, clear, fmtDate, h, toast } from "/static/js/ui.js";

const FOLLOW_UPS = ["Explique autrement", "Donne-moi un exemple", "Un exercice ?"];

const state = { sessionId: null, course: null, streaming: false, lastOpener: null, controller: null };

function scrollDown() {
  const box = $("#messages");
  box.scrollTop = box.scrollHeight;
}

function userBubble(text) {
  return h("div", { class: "msg msg-user" }, h("p", { class: "msg-author sr-only", text: "Toi :" }), h("p", { class: "msg-text", text }));
}

function answerShell() {
  const body = h("div", { class: "msg-body prose", "aria-live": "polite", "aria-busy": "true" });
  const wrap = h(
    "article",
    { class: "msg msg-aria", "aria-label": "Réponse d'ARIA" },
    h("p", { class: "msg-author", text: "ARIA" }),
    body,
    h("p", { class: "typing", text: "ARIA écrit…" })
  );
  return { wrap, body };
}

function sourcesBlock(sources) {
  if (!sources || !sources.length) return null;
  return h(
    "div",
    { class: "sources" },
    h("p", { class: "sources-title", text: "Sources" }),
    h("ul", {}, sources.map((s) => h("li", {}, citeButton(s, openSource), " ", h("span", { text: sourceLabel(s) }))))
  );
}

function followUps() {
  return h(
    "div",
    { class: "follow-ups", role: "group", "aria-label": "Questions de suivi" },
    FOLLOW_UPS.map((label) => h("button", { type: "button", class: "chip", text: label, onclick: () => ask(label.toLowerCase()) }))
  );
}

function finishAnswer(wrap, body, text, sources, { confidence, refused } = {}) {
  clear(body, renderAnswer(text, sources, openSource));
  body.setAttribute("aria-busy", "false");
  wrap.querySelector(".typing")?.remove();
  const cited = sourcesBlock(sources);
  if (cited) wrap.append(cited);
  if (confidence !== undefined && confidence !== null && !refused && confidence < 0.4) {
    wrap.append(h("p", { class: "muted small", text: "ARIA n'est pas sûre de cette réponse : vérifie dans le cours." }));
  }
  for (const old of document.querySelectorAll("#messages .follow-ups")) old.remove();
  wrap.append(followUps());
}

async function ask(question) {
  question = question.trim();
  if (!question || state.streaming) return;
  $("#welcome")?.remove();
  const messages = $("#messages");
  messages.append(userBubble(question));
  const { wrap, body } = answerShell();
  messages.append(wrap);
  scrollDown();
  state.streaming = true;
  const send = $("#send");
  send.disabled = true;
  let text = "";
  let sources = [];
  let pending = false;
  const paint = () => {
    pending = false;
    clear(body, renderAnswer(text, sources, openSource));
    scrollDown();
  };
  state.controller = new AbortController();
  const payload = { message: question, sessionId: state.sessionId, context: state.course ? { currentCourse: state.course } : null };
  try {
    let finished = false;
    for await (const { event, data } of sse("/api/aria/chat/stream", payload, state.controller.signal)) {
      if (event === "sources") {
        state.sessionId = data.sessionId;
        sources = data.sources || [];
      } else if (event === "token") {
        text += data.text;
        body.dataset.tokens = String(Number(body.dataset.tokens || 0) + 1);
        if (!pending) {
          pending = true;
          requestAnimationFrame(paint);
        }
      } else if (event === "done") {
        finished = true;
        state.sessionId = data.sessionId || state.sessionId;
        finishAnswer(wrap, body, data.response, data.sources || [], data);
      } else if (event === "error") {
        finished = true;
        body.setAttribute("aria-busy", "false");
        wrap.querySelector(".typing")?.remove();
        body.append(h("p", { class: "form-error", role: "alert", text: data.detail || "ARIA n'a pas pu répondre." }));
      }
    }
    if (!finished) throw new Error("La réponse a été interrompue. Réessaie.");
    loadSessions();
  } catch (error) {
    body.setAttribute("aria-busy", "false");
    wrap.querySelector(".typing")?.remove();
    body.append(h("p", { class: "form-error", role: "alert", text: error.message }));
  } finally {
    state.streaming = false;
    send.disabled = false;
    scrollDown();
  }
}

async function openSource(source, opener) {
  const panel = $("#source-panel");
  state.lastOpener = opener || null;
  panel.hidden = false;
  document.body.classList.add("panel-open");
  $("#source-title").textContent = source.title || "Source";
  $("#source-path").textContent = [...(source.section_path || []), source.location || (source.page ? `page ${source.page}` : "")].filter(Boolean).join(" › ");
  const bodyEl = $("#source-body");
  clear(bodyEl, h("p", { class: "loading", role: "status", text: "Chargement du passage…" }));
  $("#source-title").focus();
  const params = new URLSearchParams({ docId: source.doc_id });
  if (source.page) params.set("page", source.page);
  // The whole top-level section (its sub-headings kept), scrolled to the cited passage: context around it.
  else for (const part of (source.section_path || []).slice(0, 1)) params.append("section", part);
  if (source.snippet) params.set("snippet", source.snippet.slice(0, 400));
  try {
    const view = await api("/api/aria/sources?" + params.toString());
    const { fragment, first } = view.page ? plainWithHighlight(view.text, view.highlight) : renderWithHighlight(view.text, view.highlight);
    clear(bodyEl, fragment);
    panel.dataset.docId = view.docId;
    if (first) {
      first.id = "cited-passage";
      first.scrollIntoView({ block: "center" });
    }
  } catch (error) {
    clear(bodyEl, h("p", { class: "form-error", role: "alert", text: error.message }));
  }
}

function closeSource() {
  const panel = $("#source-panel");
  if (panel.hidden) return;
  panel.hidden = true;
  document.body.classList.remove("panel-open");
  if (state.lastOpener && document.contains(state.lastOpener)) state.lastOpener.focus();
}

async function loadSessions() {
  const list = $("#session-list");
  try {
    const sessions = await api("/api/aria/sessions");
    if (!sessions.length) {
      clear(list, h("li", { class: "muted", text: "Aucune conversation pour l'instant." }));
      return;
    }
    clear(
      list,
      sessions.map((s) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "session-item",
              "aria-current": s.id === state.sessionId ? "true" : null,
              onclick: () => openSession(s.id),
            },
            h("span", { class: "session-title", text: s.title || "Conversation" }),
            h("span", { class: "session-date", text: fmtDate(s.updatedAt) })
          )
        )
      )
    );
  } catch (error) {
    clear(list, h("li", { class: "form-error", text: error.message }));
  }
}

async function openSession(id) {
  if (state.streaming) return;
  state.sessionId = id;
  const messages = $("#messages");
  clear(messages, h("p", { class: "loading", role: "status", text: "Chargement de la conversation…" }));
  try {
    const rows = await api(`/api/aria/sessions/${encodeURIComponent(id)}/messages`);
    clear(messages);
    let last = null;
    for (const m of rows) {
      if (m.role === "user") messages.append(userBubble(m.content));
      else {
        const { wrap, body } = answerShell();
        messages.append(wrap);
        finishAnswer(wrap, body, m.content, m.sources || [], { confidence: m.confidence, refused: m.metadata?.refused });
        last = wrap;
      }
    }
    if (!last) for (const old of messages.querySelectorAll(".follow-ups")) old.remove();
    scrollDown();
    loadSessions();
    $("#question").focus();
  } catch (error) {
    clear(messages, h("p", { class: "form-error", role: "alert", text: error.message }));
  }
}

function newSession() {
  if (state.streaming) return;
  state.sessionId = null;
  clear($("#messages"), h("p", { class: "welcome", text: "Nouvelle conversation : pose ta question." }));
  loadSessions();
  $("#question").focus();
}

export default async function () {
  const params = new URLSearchParams(location.search);
  state.course = params.get("course");
  if (state.course) {
    const ctx = $("#course-context");
    ctx.textContent = "Les questions portent en priorité sur le cours que tu lisais.";
    ctx.hidden = false;
  }
  const form = $("#ask-form");
  const input = $("#question");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = input.value;
    if (!q.trim()) {
      toast("Écris d'abord ta question.");
      return;
    }
    input.value = "";
    ask(q);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  for (const b of document.querySelectorAll(".suggestion")) b.addEventListener("click", () => ask(b.textContent));
  $("#new-session").addEventListener("click", newSession);
  $("#source-close").addEventListener("click", closeSource);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeSource();
  });
  await loadSessions();
  if (params.get("q")) ask(params.get("q"));
  else input.focus();
}
