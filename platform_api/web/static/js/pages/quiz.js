// Take a quiz: server-set deadline with a visible timer, answers saved as you go, results with feedback.
import { api } from "/static/js/api.js";
import { safeFragment } from "/static/js/markdown.js";
import { $, busy, clear, h, toast } from "/static/js/ui.js";

const state = { assessment: null, attempt: null, timer: null, saveTimer: null, submitting: false };

function questionField(q, index, answers) {
  const name = `q-${q.id}`;
  const legend = h("legend", {}, h("span", { class: "q-number", text: `Question ${index + 1}` }), h("span", { class: "q-points", text: ` (${q.points} pt${q.points > 1 ? "s" : ""})` }));
  const prompt = h("div", { class: "q-prompt prose" }, safeFragment(q.prompt));
  const given = answers[q.id];
  let input;
  if (q.type === "single_choice" || q.type === "multiple_choice") {
    const multi = q.type === "multiple_choice";
    input = h(
      "div",
      { class: "options" },
      q.options.map((opt, i) =>
        h(
          "label",
          { class: "option" },
          h("input", {
            type: multi ? "checkbox" : "radio",
            name,
            value: String(i),
            checked: multi ? Array.isArray(given) && given.includes(i) : given === i,
          }),
          h("span", { text: opt })
        )
      )
    );
    if (multi) input.prepend(h("p", { class: "help", text: "Plusieurs réponses possibles." }));
  } else if (q.type === "code") {
    input = h("div", {}, h("label", { for: name, class: "sr-only", text: "Ton code" }), h("textarea", { id: name, name, rows: 8, class: "code-input", spellcheck: "false" }));
    input.querySelector("textarea").value = given ?? "";
  } else {
    const numeric = q.type === "numeric";
    input = h("div", {}, h("label", { for: name, text: numeric ? "Ta réponse (un nombre)" : "Ta réponse" }), h("input", { id: name, name, type: "text", inputmode: numeric ? "decimal" : null, autocomplete: "off" }));
    input.querySelector("input").value = given ?? "";
  }
  return h("fieldset", { class: "question card", "data-question": q.id }, legend, prompt, input);
}

function collect(form) {
  const answers = {};
  for (const q of state.attempt.questions || []) {
    const name = `q-${q.id}`;
    if (q.type === "single_choice") {
      const checked = form.querySelector(`input[name="${name}"]:checked`);
      if (checked) answers[q.id] = Number(checked.value);
    } else if (q.type === "multiple_choice") {
      const values = [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => Number(i.value));
      if (values.length) answers[q.id] = values;
    } else {
      const el = form.elements[name];
      const value = el ? el.value.trim() : "";
      if (value) answers[q.id] = q.type === "numeric" ? value.replace(",", ".") : value;
    }
  }
  return answers;
}

function startTimer(deadline, form) {
  const box = $("#timer-box");
  const out = $("#timer");
  if (!deadline) return;
  box.hidden = false;
  let warned = false;
  const end = new Date(deadline).getTime();
  const tick = () => {
    const left = Math.max(0, Math.round((end - Date.now()) / 1000));
    out.textContent = `${String(Math.floor(left / 60)).padStart(2, "0")}:${String(left % 60).padStart(2, "0")}`;
    box.classList.toggle("urgent", left <= 60);
    if (left <= 60 && !warned) {
      warned = true;
      $("#timer-alert").textContent = "Plus qu'une minute !";
    }
    if (left === 0) {
      clearInterval(state.timer);
      $("#timer-alert").textContent = "Temps écoulé : tes réponses sont rendues.";
      submit(form);
    }
  };
  tick();
  state.timer = setInterval(tick, 1000);
}

async function save(form) {
  try {
    await api(`/api/attempts/${state.attempt.id}/answers`, { method: "PUT", body: { answers: collect(form) } });
    $("#save-status").textContent = "Réponses enregistrées.";
  } catch (error) {
    $("#save-status").textContent = error.message;
  }
}

async function submit(form) {
  if (state.submitting) return;
  state.submitting = true;
  clearInterval(state.timer);
  clearTimeout(state.saveTimer);
  try {
    const button = form.querySelector("button[type=submit]");
    const result = await busy(button, "Envoi…", () =>
      api(`/api/attempts/${state.attempt.id}/submit`, { method: "POST", body: { answers: collect(form) } })
    );
    showResult(result);
  } catch (error) {
    state.submitting = false;
    toast(error.message);
  }
}

function answerText(q, value) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) return "(pas de réponse)";
  if (q.type === "single_choice") return q.options[value] ?? String(value);
  if (q.type === "multiple_choice") return value.map((i) => q.options[i] ?? i).join(", ");
  if (Array.isArray(value)) return value.join(" ou ");
  return String(value);
}

function showResult(attempt) {
  $("#timer-box").hidden = true;
  const body = $("#quiz-body");
  const heading = h("h2", { tabindex: "-1", id: "result-title", text: `Résultat : ${attempt.score ?? 0} / ${attempt.maxScore}` });
  const items = (attempt.corrections || []).map((q, i) => {
    const g = (attempt.grades || {})[q.id] || {};
    const verdict = g.correct === true ? "Bonne réponse" : g.correct === false ? "Réponse fausse" : "À corriger par ton professeur";
    const tone = g.correct === true ? "ok" : g.correct === false ? "ko" : "wait";
    return h(
      "li",
      { class: `result-item ${tone}` },
      h("p", { class: "result-verdict" }, h("strong", { text: `Question ${i + 1} — ${verdict}` }), ` (${g.points ?? 0} / ${g.max ?? q.points})`),
      h("div", { class: "prose" }, safeFragment(q.prompt)),
      h("p", { text: `Ta réponse : ${answerText(q, attempt.answers[q.id])}` }),
      g.correct === false && q.answer !== null && q.answer !== undefined ? h("p", { text: `Réponse attendue : ${answerText(q, q.answer)}` }) : null,
      q.explanation ? h("div", { class: "explanation prose" }, h("strong", { text: "Explication : " }), safeFragment(q.explanation)) : null,
      g.feedback ? h("p", { class: "feedback", text: `Commentaire : ${g.feedback}` }) : null
    );
  });
  clear(
    body,
    h(
      "section",
      { class: "card result", "aria-labelledby": "result-title" },
      heading,
      attempt.late ? h("p", { class: "notice", text: "Rendu après la limite : seules les réponses enregistrées à temps comptent." }) : null,
      attempt.needsGrading ? h("p", { class: "notice", text: "Certaines réponses seront notées par ton professeur." }) : null,
      attempt.feedback ? h("p", { class: "feedback", text: `Commentaire du professeur : ${attempt.feedback}` }) : null,
      attempt.correctionsWithheld ? h("p", { class: "notice", text: "Les corrections seront visibles quand tu auras utilisé toutes tes tentatives ou à la fermeture de l'évaluation." }) : null,
      h("ol", { class: "result-list" }, items),
      h("p", {}, h("a", { class: "button secondary", href: "/eleve", text: "Voir ma progression" }))
    )
  );
  heading.focus();
}

function showAttempt(attempt) {
  state.attempt = attempt;
  const body = $("#quiz-body");
  const form = h(
    "form",
    { id: "quiz-form", class: "quiz-form", novalidate: true },
    (attempt.questions || []).map((q, i) => questionField(q, i, attempt.answers || {})),
    h("p", { id: "save-status", class: "muted small", role: "status" }),
    h("button", { type: "submit", class: "wide", text: "Rendre mes réponses" })
  );
  form.addEventListener("change", () => {
    clearTimeout(state.saveTimer);
    state.saveTimer = setTimeout(() => save(form), 600);
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit(form);
  });
  clear(body, form);
  startTimer(attempt.deadlineAt, form);
  form.querySelector("input, textarea")?.focus();
}

export default async function () {
  const id = decodeURIComponent(location.pathname.split("/").pop());
  const a = await api(`/api/assessments/${encodeURIComponent(id)}`);
  state.assessment = a;
  document.title = `${a.title} — ARIA, tuteur NSI`;
  $("#quiz-title").textContent = a.title;
  $("#quiz-info").textContent = `${a.questionCount} question(s) · ${a.maxScore} point(s)${a.timeLimitMinutes ? ` · ${a.timeLimitMinutes} minutes` : " · sans limite de temps"}`;
  const attempts = a.myAttempts || [];
  const running = attempts.find((t) => !t.submittedAt);
  const finished = attempts.filter((t) => t.submittedAt);
  const body = $("#quiz-body");
  const children = [];
  if (a.description) children.push(h("div", { class: "prose card" }, safeFragment(a.description)));
  if (running) {
    showAttempt(await api(`/api/attempts/${running.id}`));
    return;
  }
  if (finished.length) {
    children.push(
      h("h2", { text: "Mes essais" }),
      h("ul", { class: "link-list" }, finished.map((t) => h("li", {}, h("button", { type: "button", class: "link-button", text: `Essai ${t.attemptNo} : ${t.score ?? "?"} / ${t.maxScore} — voir la correction`, onclick: async () => showResult(await api(`/api/attempts/${t.id}`)) }))))
    );
  }
  if (attempts.length < a.maxAttempts) {
    children.push(
      h("button", {
        type: "button",
        id: "start-quiz",
        text: finished.length ? "Recommencer" : "Commencer",
        onclick: async (e) => {
          try {
            showAttempt(await busy(e.target, "Préparation…", () => api(`/api/assessments/${encodeURIComponent(id)}/attempts`, { method: "POST" })));
          } catch (error) {
            toast(error.message);
          }
        },
      })
    );
    if (a.timeLimitMinutes) children.push(h("p", { class: "muted", text: `Le chronomètre démarre quand tu cliques : ${a.timeLimitMinutes} minutes.` }));
  }
  clear(body, ...children);
}
