// Course browser: published courses (curriculum included) with the student's progress in each.
import { api } from "/static/js/api.js";
import { $, clear, emptyState, h, LEVELS, loading, progressBar } from "/static/js/ui.js";

export default async function ({ user }) {
  const form = $("#course-filter");
  const list = $("#course-list");
  if (user.role === "student" && user.classLevel) form.level.value = user.classLevel;
  let progress = new Map();
  if (user.role === "student") {
    const rows = await api("/api/progress/me");
    progress = new Map(rows.map((r) => [r.courseId, r]));
  }
  let timer = null;
  const load = async () => {
    clear(list, loading());
    const params = new URLSearchParams({ limit: "100" });
    if (form.level.value) params.set("level", form.level.value);
    if (form.search.value.trim()) params.set("search", form.search.value.trim());
    const page = await api("/api/courses?" + params.toString());
    if (!page.courses.length) {
      clear(list, emptyState("Aucun cours ne correspond."));
      return;
    }
    clear(
      list,
      page.courses.map((c) => {
        const p = progress.get(c.id);
        return h(
          "article",
          { class: "card course-card" },
          h("h2", {}, h("a", { href: `/cours/${encodeURIComponent(c.id)}`, text: c.title })),
          h("p", { class: "muted", text: `${LEVELS[c.level] || c.level} · ${c.chapterCount} chapitre(s) · ${Math.round(c.estimatedTime / 60) || 1} h environ` }),
          h("p", { text: c.description }),
          p
            ? h("div", { class: "progress-row" }, progressBar(p.percent / 100, `Progression dans ${c.title}`), h("span", { text: `${p.completedSections} / ${p.totalSections} sections` }))
            : user.role === "student"
              ? h("p", { class: "muted small", text: "Pas encore commencé." })
              : null
        );
      })
    );
  };
  form.addEventListener("change", load);
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(load, 300);
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  await load();
}
