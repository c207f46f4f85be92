// Class dashboard: students' progress, most-missed questions, what the class asks ARIA about, assessments.
import { api } from "/static/js/api.js";
import { $, barChart, clear, clearFormError, emptyState, fmtDate, h, LEVELS, pct, showFormError, toast } from "/static/js/ui.js";

function table(headers, rows) {
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, rows)
  );
}

async function load(id) {
  const [board, detail] = await Promise.all([api(`/api/dashboard/classes/${encodeURIComponent(id)}`), api(`/api/classes/${encodeURIComponent(id)}`)]);
  document.title = `${board.class.name} — ARIA, tuteur NSI`;
  $("#class-title").textContent = board.class.name;
  clear(
    $("#class-stats"),
    h("div", { class: "stat" }, h("span", { class: "stat-value", text: String(board.class.studentCount) }), h("span", { class: "stat-label", text: "élèves" })),
    h("div", { class: "stat" }, h("span", { class: "stat-value", text: LEVELS[board.class.level] || "—" }), h("span", { class: "stat-label", text: "niveau" })),
    h("div", { class: "stat" }, h("span", { class: "stat-value", text: detail.joinCode || "—" }), h("span", { class: "stat-label", text: "code pour rejoindre" })),
    h("div", { class: "stat" }, h("span", { class: "stat-value", text: String(board.ariaQuestions ?? 0) }), h("span", { class: "stat-label", text: `questions à ARIA (${board.ariaTopicDays ?? 30} j)` }))
  );
  const emails = new Map((detail.students || []).map((s) => [s.id, s.email]));
  clear(
    $("#students"),
    board.students.length
      ? table(
          ["Élève", "Cours commencés", "Sections terminées", "Moyenne", "Dernière activité", ""],
          board.students.map((s) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, `${s.firstName} ${s.lastName}`, h("br"), h("span", { class: "muted small", text: emails.get(s.id) || "" })),
              h("td", { text: String(s.coursesStarted) }),
              h("td", { text: String(s.sectionsCompleted) }),
              h("td", { text: pct(s.averageScore) }),
              h("td", { text: fmtDate(s.lastActivity) }),
              h("td", {}, h("button", {
                type: "button",
                class: "link-button danger",
                text: "Retirer",
                "aria-label": `Retirer ${s.firstName} ${s.lastName} de la classe`,
                onclick: async () => {
                  if (!confirm(`Retirer ${s.firstName} ${s.lastName} de la classe ?`)) return;
                  await api(`/api/classes/${encodeURIComponent(id)}/students/${encodeURIComponent(s.id)}`, { method: "DELETE" });
                  toast("Élève retiré.");
                  load(id);
                },
              }))
            )
          )
        )
      : emptyState("Aucun élève : donne le code de la classe à tes élèves.")
  );
  const pending = detail.invitations || [];
  clear(
    $("#invitations"),
    pending.length
      ? h("ul", {}, pending.map((i) => h("li", {}, h("span", { text: `${i.email} — invitée le ${fmtDate(i.createdAt)} ` }), h("button", {
          type: "button",
          class: "link-button danger",
          text: "Annuler",
          "aria-label": `Annuler l'invitation de ${i.email}`,
          onclick: async () => {
            await api(`/api/classes/${encodeURIComponent(id)}/invitations/${encodeURIComponent(i.id)}`, { method: "DELETE" });
            toast("Invitation annulée.");
            load(id);
          },
        }))))
      : emptyState("Aucune invitation en attente.")
  );
  const missed = board.mostMissedQuestions || [];
  clear(
    $("#missed"),
    missed.length
      ? barChart(missed.map((m) => ({ label: m.prompt, value: m.missRate, tone: "warn" })), { title: "Part des élèves qui ont manqué chaque question" })
      : emptyState("Aucune question manquée pour l'instant.")
  );
  if (missed.length) $("#missed").append(h("ol", { class: "legend" }, missed.map((m) => h("li", { text: `${m.prompt} — ${m.assessmentTitle} (${m.answered} réponses, ${pct(m.missRate)} d'erreurs)` }))));
  const topics = board.ariaTopics || [];
  const most = Math.max(1, ...topics.map((t) => t.questions));
  clear(
    $("#topics"),
    topics.length
      ? barChart(topics.map((t) => ({ label: t.title, value: t.questions })), { title: "Nombre de questions à ARIA par cours cité", unit: "count", max: most })
      : emptyState("Pas encore de question à ARIA dans cette classe.")
  );
  const assessments = board.assessments || [];
  clear(
    $("#assessments"),
    assessments.length
      ? table(
          ["Titre", "Publié", "Copies rendues", "À corriger", "Moyenne"],
          assessments.map((a) => h("tr", {}, h("th", { scope: "row", text: a.title }), h("td", { text: a.published ? "oui" : "non" }), h("td", { text: String(a.submissions) }), h("td", { text: String(a.toGrade) }), h("td", { text: pct(a.averageScore) })))
        )
      : emptyState("Aucune évaluation pour cette classe.")
  );
}

export default async function () {
  const id = decodeURIComponent(location.pathname.split("/").pop());
  await load(id);
  const form = $("#add-student-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormError(form);
    try {
      const sent = await api(`/api/classes/${encodeURIComponent(id)}/students`, { method: "POST", body: { email: form.email.value.trim() } });
      form.reset();
      toast(sent.message);
      await load(id);
    } catch (error) {
      showFormError(form, error);
    }
  });
}
