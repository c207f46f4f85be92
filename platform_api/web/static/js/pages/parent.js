// Parent: each child's progress, quiz results, recent activity and ARIA conversation titles.
import { api } from "/static/js/api.js";
import { $, clear, clearFormError, emptyState, fmtDate, h, LEVELS, pct, showFormError, toast } from "/static/js/ui.js";
import { activityList, progressCharts } from "/static/js/pages/student.js";

async function load() {
  const box = $("#children");
  const board = await api("/api/dashboard/parent");
  if (!board.children.length) {
    clear(box, emptyState("Aucun enfant lié à ton compte : ajoute-le avec son code parent ci-dessous."));
    return;
  }
  const levels = [...new Set(board.children.map((c) => c.student.classLevel).filter(Boolean))];
  const courses = new Map(
    await Promise.all(levels.map(async (lv) => [lv, (await api(`/api/courses?level=${lv}&limit=100`)).courses]))
  );
  clear(
    box,
    board.children.map((child) => {
      const s = child.student;
      const progress = h("div");
      const scores = h("div");
      progressCharts(child, progress, scores, courses.get(s.classLevel) || []);
      const sessions = child.ariaSessions || [];
      return h(
        "section",
        { class: "card child", "aria-labelledby": `child-${s.id}` },
        h("h2", { id: `child-${s.id}`, text: `${s.firstName} ${s.lastName}` }),
        h("p", { class: "muted", text: `${LEVELS[s.classLevel] || "Niveau non précisé"} · moyenne aux quiz : ${pct(child.averageScore)}` }),
        h("div", { class: "grid two" },
          h("div", {}, h("h3", { text: "Progression par thème" }), progress),
          h("div", {}, h("h3", { text: "Résultats aux quiz" }), scores),
          h("div", {}, h("h3", { text: "Activité récente" }), activityList(child.recentActivity || [])),
          h("div", {}, h("h3", { text: "Questions posées à ARIA" }),
            sessions.length
              ? h("ul", { class: "activity" }, sessions.map((x) => h("li", {}, h("span", { class: "activity-when", text: fmtDate(x.updatedAt) }), " ", h("span", { text: `${x.title} (${x.messageCount} messages)` }))))
              : emptyState("Aucune conversation."))
        )
      );
    })
  );
}

export default async function () {
  await load();
  const form = $("#link-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormError(form);
    try {
      const child = await api("/api/users/me/children", { method: "POST", body: { parentCode: form.parentCode.value.trim() } });
      form.reset();
      toast(`${child.firstName} est maintenant lié·e à ton compte.`);
      await load();
    } catch (error) {
      showFormError(form, error);
    }
  });
}
