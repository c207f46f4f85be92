// The student's assessments: open ones to take, finished ones with their result.
import { api } from "/static/js/api.js";
import { $, clear, emptyState, fmtDate, h } from "/static/js/ui.js";

const TYPES = { quiz: "Quiz", tp: "TP", exam: "Devoir", project: "Projet" };

export default async function () {
  const list = $("#quiz-list");
  const items = await api("/api/assessments");
  if (!items.length) {
    clear(list, emptyState("Aucune évaluation pour le moment. Rejoins ta classe avec le code de ton professeur."));
    return;
  }
  clear(
    list,
    items.map((a) => {
      const attempts = a.myAttempts || [];
      const done = attempts.filter((t) => t.submittedAt);
      const best = done.reduce((m, t) => Math.max(m, t.score ?? 0), 0);
      return h(
        "article",
        { class: "card quiz-card" },
        h("h2", {}, h("a", { href: `/quiz/${encodeURIComponent(a.id)}`, text: a.title })),
        h("p", { class: "muted", text: `${TYPES[a.type] || a.type} · ${a.questionCount} question(s)${a.timeLimitMinutes ? ` · ${a.timeLimitMinutes} min` : ""}${a.closesAt ? ` · jusqu'au ${fmtDate(a.closesAt)}` : ""}` }),
        done.length ? h("p", { text: `Meilleur score : ${best} / ${a.maxScore}` }) : h("p", { text: "À faire" })
      );
    })
  );
}
