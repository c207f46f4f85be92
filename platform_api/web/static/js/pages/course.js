// One course: chapters with the student's progress per chapter, a reader for sections, progress recorded.
import { api } from "/static/js/api.js";
import { safeFragment } from "/static/js/markdown.js";
import { $, clear, h, progressBar, toast } from "/static/js/ui.js";

const state = { course: null, sections: new Map(), user: null };

function chapterProgress(chapter) {
  const total = chapter.sections.length;
  const done = chapter.sections.filter((s) => state.sections.get(s.id)?.status === "completed").length;
  return { total, done };
}

function renderChapters() {
  const nav = $("#chapters");
  const chapters = state.course.content.chapters || [];
  clear(
    nav,
    h("h2", { text: "Chapitres" }),
    h(
      "ol",
      { class: "chapter-list" },
      chapters.map((ch) => {
        const { total, done } = chapterProgress(ch);
        return h(
          "li",
          { class: "chapter" },
          h("h3", { text: ch.title }),
          state.user.role === "student"
            ? h("div", { class: "progress-row" }, progressBar(total ? done / total : 0, `Progression du chapitre ${ch.title}`), h("span", { class: "small", text: `${done} / ${total}` }))
            : null,
          h(
            "ul",
            { class: "section-list" },
            ch.sections.map((s) => {
              const status = state.sections.get(s.id)?.status;
              const mark = status === "completed" ? "✓" : status ? "•" : "";
              return h(
                "li",
                {},
                h(
                  "button",
                  { type: "button", class: "section-link", "data-section": s.id, onclick: () => openSection(ch, s) },
                  h("span", { class: "section-mark", "aria-hidden": "true", text: mark }),
                  h("span", { text: s.title }),
                  status ? h("span", { class: "sr-only", text: status === "completed" ? " (terminée)" : " (commencée)" }) : null
                )
              );
            })
          )
        );
      })
    )
  );
}

async function record(sectionId, completed) {
  if (state.user.role !== "student") return;
  const out = await api("/api/progress", { method: "POST", body: { courseId: state.course.id, sectionId, completed } });
  state.sections = new Map(out.sections.map((s) => [s.sectionId, s]));
  renderChapters();
}

async function openSection(chapter, section) {
  const reader = $("#reader");
  const done = state.sections.get(section.id)?.status === "completed";
  const heading = h("h2", { tabindex: "-1", text: section.title });
  clear(
    reader,
    h("p", { class: "muted", text: chapter.title }),
    heading,
    h("div", { class: "section-content" }, safeFragment(section.content)),
    h(
      "div",
      { class: "actions" },
      state.user.role === "student" && !done
        ? h("button", {
            type: "button",
            text: "J'ai terminé cette section",
            onclick: async (e) => {
              e.target.disabled = true;
              await record(section.id, true);
              toast("Section terminée : bravo !");
              e.target.replaceWith(h("p", { class: "notice", text: "Section terminée ✓" }));
            },
          })
        : done
          ? h("p", { class: "notice", text: "Section terminée ✓" })
          : null,
      h("a", { class: "button secondary", href: `/aria?course=${encodeURIComponent(state.course.id)}`, text: "Poser une question à ARIA" })
    )
  );
  heading.focus();
  if (!state.sections.has(section.id)) await record(section.id, false);
}

export default async function ({ user }) {
  state.user = user;
  const id = decodeURIComponent(location.pathname.split("/").pop());
  state.course = await api(`/api/courses/${encodeURIComponent(id)}`);
  document.title = `${state.course.title} — ARIA, tuteur NSI`;
  $("#course-title").textContent = state.course.title;
  $("#course-desc").textContent = state.course.description;
  if (user.role === "student") {
    const detail = await api(`/api/progress/students/${encodeURIComponent(user.id)}/courses/${encodeURIComponent(id)}`);
    state.sections = new Map(detail.sections.map((s) => [s.sectionId, s]));
  }
  renderChapters();
}
