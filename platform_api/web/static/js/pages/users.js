// Admin: users and roles, activate or deactivate an account, create any account.
import { api } from "/static/js/api.js";
import { $, clear, clearFormError, emptyState, fmtDate, h, ROLES, showFormError, toast } from "/static/js/ui.js";

let page = 1;

async function load() {
  const form = $("#user-filter");
  const params = new URLSearchParams({ page: String(page), limit: "20" });
  if (form.role.value) params.set("role", form.role.value);
  const out = await api("/api/users?" + params.toString());
  const box = $("#user-list");
  if (!out.users.length) {
    clear(box, emptyState("Aucun utilisateur."));
  } else {
    clear(
      box,
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, ["Nom", "Email", "Rôle", "Compte", "Créé le", ""].map((t) => h("th", { scope: "col", text: t })))),
        h(
          "tbody",
          {},
          out.users.map((u) =>
            h(
              "tr",
              {},
              h("th", { scope: "row", text: `${u.firstName} ${u.lastName}` }),
              h("td", { text: u.email }),
              h("td", { text: ROLES[u.role] || u.role }),
              h("td", { text: u.isActive ? "actif" : "désactivé" }),
              h("td", { text: fmtDate(u.createdAt, false) }),
              h("td", {}, h("button", {
                type: "button",
                class: "link-button",
                text: u.isActive ? "Désactiver" : "Réactiver",
                "aria-label": `${u.isActive ? "Désactiver" : "Réactiver"} ${u.firstName} ${u.lastName}`,
                onclick: async () => {
                  try {
                    await api(`/api/users/${encodeURIComponent(u.id)}`, { method: "PATCH", body: { isActive: !u.isActive } });
                    toast("Compte mis à jour.");
                    load();
                  } catch (error) {
                    toast(error.message);
                  }
                },
              }))
            )
          )
        )
      )
    );
  }
  const p = out.pagination;
  clear(
    $("#pager"),
    h("button", { type: "button", class: "secondary small", text: "← Précédents", disabled: p.page <= 1, onclick: () => { page -= 1; load(); } }),
    h("span", { text: ` Page ${p.page} / ${Math.max(p.pages, 1)} (${p.total}) ` }),
    h("button", { type: "button", class: "secondary small", text: "Suivants →", disabled: p.page >= p.pages, onclick: () => { page += 1; load(); } })
  );
}

export default async function () {
  $("#user-filter").addEventListener("change", () => {
    page = 1;
    load();
  });
  await load();
  const form = $("#user-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormError(form);
    const role = form.role.value;
    try {
      await api("/api/users", {
        method: "POST",
        body: {
          firstName: form.firstName.value.trim(),
          lastName: form.lastName.value.trim(),
          email: form.email.value.trim(),
          password: form.password.value,
          role,
          classLevel: role === "student" ? form.classLevel.value || null : null,
        },
      });
      form.reset();
      toast("Compte créé.");
      load();
    } catch (error) {
      showFormError(form, error);
    }
  });
}
