// Student dashboard: progress by theme, quiz results, what to do and to revise, classes and the parent code.
import { api } from "/static/js/api.js";
import { safeFragment } from "/static/js/markdown.js";
import { $, barChart, clear, columnChart, emptyState, fmtDate, h, LEVELS, pct, showFormError, clearFormError, toast } from "/static/js/ui.js";

export function activityList(items) {
  if (!items.length) return emptyState("Pas encore d'activité.");
  return h(
    "ul",
    { class: "activity" },
    items.map((a) => {
      let text;
      if (a.type === "assessment") text = `Évaluation « ${a.title} » : ${a.score ?? "?"} / ${a.maxScore}`;
      else if (a.type === "aria") text = `Question à ARIA : « ${a.title} »`;
      else text = `${a.status === "completed" ? "Section terminée" : "Section ouverte"} : ${a.title || sectionName(a.sectionId)}`;
      return h("li", {}, h("span", { class: "activity-when", text: fmtDate(a.at) }), " ", h("span", { text }));
    })
  );
}

function sectionName(id) {
  const [chapter, section] = String(id || "").split("#");
  const tail = chapter.split("/").pop() || chapter;
  return `${tail.replace(/-/g, " ")}${section ? " › " + section.replace(/-/g, " ") : ""}`;
}

export function progressCharts(board, progressEl, scoresEl, courses = []) {
  // Every course of the level (0 % when not started), then any other course the student opened.
  const started = new Map((board.progressByTheme || []).map((c) => [c.courseId, c]));
  const name = (title) => (courses.length ? title.replace(/ \((Première|Terminale)\)$/, "") : title);
  const themes = [
    ...courses.map((c) => ({ label: name(c.title), value: (started.get(c.id)?.percent || 0) / 100 })),
    ...[...started.values()].filter((c) => !courses.some((k) => k.id === c.courseId)).map((c) => ({ label: c.title, value: c.percent / 100 })),
  ];
  clear(
    progressEl,
    themes.length
      ? barChart(themes, { title: "Part des sections terminées, par thème" })
      : emptyState("Ouvre un cours pour voir ta progression ici.")
  );
  const results = (board.recentActivity || []).filter((a) => a.type === "assessment" && a.maxScore).reverse();
  clear(
    scoresEl,
    results.length
      ? columnChart(
          results.map((r, i) => ({ label: r.title, short: String(i + 1), value: (r.score || 0) / r.maxScore })),
          { title: "Score de chaque évaluation, de la plus ancienne à la plus récente" }
        )
      : emptyState("Aucun quiz rendu pour l'instant.")
  );
  if (results.length) {
    scoresEl.append(h("ol", { class: "legend" }, results.map((r) => h("li", { text: `${r.title} : ${r.score ?? "?"} / ${r.maxScore}` }))));
  }
}

async function loadClasses() {
  const box = $("#my-classes");
  const [classes, invitations] = await Promise.all([api("/api/classes"), api("/api/classes/invitations")]);
  const invited = invitations.length
    ? h("ul", { class: "invitations" }, invitations.map((i) => h("li", {},
        h("span", { text: `Invitation dans la classe ${i.className}${i.teacherName ? " (" + i.teacherName + ")" : ""} ` }),
        h("button", { type: "button", text: "Accepter", "aria-label": `Accepter l'invitation dans la classe ${i.className}`, onclick: async () => {
          const klass = await api(`/api/classes/invitations/${encodeURIComponent(i.id)}/accept`, { method: "POST" });
          toast(`Tu as rejoint la classe ${klass.name}.`);
          loadClasses();
        } }),
        " ",
        h("button", { type: "button", class: "link-button", text: "Refuser", "aria-label": `Refuser l'invitation dans la classe ${i.className}`, onclick: async () => {
          await api(`/api/classes/invitations/${encodeURIComponent(i.id)}`, { method: "DELETE" });
          toast("Invitation refusée.");
          loadClasses();
        } })
      )))
    : null;
  clear(
    box,
    invited,
    classes.length
      ? h("ul", {}, classes.map((c) => h("li", { text: `${c.name}${c.level ? " (" + (LEVELS[c.level] || c.level) + ")" : ""}` })))
      : emptyState("Tu n'es dans aucune classe : demande le code à ton professeur.")
  );
}

export default async function ({ user }) {
  const board = await api("/api/dashboard/student");
  $("#greeting").textContent = `Bonjour ${board.student.firstName} !`;
  const completed = (board.progressByTheme || []).reduce((n, c) => n + c.completedSections, 0);
  clear(
    $("#stats"),
    h("div", { class: "stat" }, h("span", { class: "stat-value", text: String(completed) }), h("span", { class: "stat-label", text: "sections terminées" })),
    h("div", { class: "stat" }, h("span", { class: "stat-value", text: pct(board.averageScore) }), h("span", { class: "stat-label", text: "moyenne aux quiz" })),
    h("div", { class: "stat" }, h("span", { class: "stat-value", text: String((board.openAssessments || []).length) }), h("span", { class: "stat-label", text: "évaluations à faire" })),
    h("div", { class: "stat" }, h("span", { class: "stat-value", text: LEVELS[board.student.classLevel] || "—" }), h("span", { class: "stat-label", text: "niveau" }))
  );
  const level = board.student.classLevel;
  const courses = level ? (await api(`/api/courses?level=${level}&limit=100`)).courses : [];
  progressCharts(board, $("#progress-chart"), $("#scores-chart"), courses);
  const open = board.openAssessments || [];
  clear(
    $("#open-assessments"),
    open.length
      ? h("ul", { class: "link-list" }, open.map((a) => h("li", {}, h("a", { href: `/quiz/${encodeURIComponent(a.id)}`, text: a.title }), a.closesAt ? h("span", { class: "muted", text: ` — jusqu'au ${fmtDate(a.closesAt)}` }) : null)))
      : emptyState("Rien à faire pour le moment.")
  );
  const weak = board.weakSpots || { questions: [], sections: [] };
  const weakItems = [
    ...weak.questions.map((q) => h("li", {}, h("span", { class: "inline-prose" }, safeFragment(q.prompt)), h("span", { class: "muted", text: ` (${q.assessmentTitle})` }), " ", h("a", { href: `/aria?q=${encodeURIComponent(q.prompt.slice(0, 200))}`, text: "Demander à ARIA" }))),
    ...weak.sections.map((s) => h("li", { text: `${s.title || sectionName(s.sectionId)} : ${pct(s.score)}` })),
  ];
  clear($("#weak-spots"), weakItems.length ? h("ul", { class: "weak-list" }, weakItems) : emptyState("Aucun point faible repéré. Continue !"));
  clear($("#activity"), activityList(board.recentActivity || []));
  try {
    await loadClasses();
    const code = await api("/api/users/me/parent-code");
    $("#parent-code").textContent = code.parentCode;
  } catch (error) {
    toast(error.message);
  }
  const form = $("#join-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormError(form);
    try {
      const klass = await api("/api/classes/join", { method: "POST", body: { joinCode: form.joinCode.value.trim() } });
      form.reset();
      toast(`Tu as rejoint la classe ${klass.name}.`);
      await loadClasses();
    } catch (error) {
      showFormError(form, error);
    }
  });
  return user;
}
