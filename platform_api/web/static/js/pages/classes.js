// Teacher's classes: join codes to hand out, new code, new class, links to each class dashboard.
import { api } from "/static/js/api.js";
import { $, busy, clear, clearFormError, emptyState, h, LEVELS, showFormError, toast } from "/static/js/ui.js";

async function load() {
  const list = $("#class-list");
  const classes = await api("/api/classes");
  if (!classes.length) {
    clear(list, emptyState("Pas encore de classe : crée la première ci-dessous."));
    return;
  }
  clear(
    list,
    classes.map((c) => {
      const code = h("code", { class: "code-display", text: c.joinCode || "—" });
      return h(
        "article",
        { class: "card class-card" },
        h("h2", {}, h("a", { href: `/enseignant/classes/${encodeURIComponent(c.id)}`, text: c.name })),
        h("p", { class: "muted", text: `${LEVELS[c.level] || "Niveau non précisé"}${c.schoolYear ? " · " + c.schoolYear : ""} · ${c.studentCount} élève(s)` }),
        h(
          "div",
          { class: "join-code" },
          h("span", { text: "Code pour rejoindre : " }),
          code,
          h("button", {
            type: "button",
            class: "secondary small",
            text: "Copier",
            "aria-label": `Copier le code de ${c.name}`,
            onclick: async () => {
              try {
                await navigator.clipboard.writeText(code.textContent);
                toast("Code copié.");
              } catch {
                toast(`Code : ${code.textContent}`);
              }
            },
          }),
          h("button", {
            type: "button",
            class: "secondary small",
            text: "Nouveau code",
            "aria-label": `Nouveau code pour ${c.name}`,
            onclick: async (e) => {
              const out = await busy(e.target, "…", () => api(`/api/classes/${encodeURIComponent(c.id)}/join-code`, { method: "POST" }));
              code.textContent = out.joinCode;
              toast("Nouveau code créé : l'ancien ne marche plus.");
            },
          })
        ),
        h("p", {}, h("a", { href: `/enseignant/classes/${encodeURIComponent(c.id)}`, text: "Tableau de bord de la classe →" }))
      );
    })
  );
}

export default async function () {
  await load();
  const form = $("#class-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormError(form);
    try {
      await api("/api/classes", {
        method: "POST",
        body: { name: form.name.value.trim(), level: form.level.value || null, schoolYear: form.schoolYear.value.trim() || null },
      });
      form.reset();
      toast("Classe créée.");
      await load();
    } catch (error) {
      showFormError(form, error);
    }
  });
}
