// Entry point of every page: the navigation for the signed-in user's role, then the page's own module.

import { currentUser, homeFor, logout, requireRole } from "/static/js/api.js";
import { $, h, ROLES } from "/static/js/ui.js";

const NAV = {
  student: [
    ["/eleve", "Ma progression"],
    ["/aria", "ARIA"],
    ["/cours", "Cours"],
    ["/quiz", "Quiz"],
  ],
  teacher: [
    ["/enseignant/classes", "Mes classes"],
    ["/enseignant/documents", "Documents"],
    ["/cours", "Cours"],
    ["/aria", "ARIA"],
  ],
  parent: [
    ["/parent", "Mes enfants"],
    ["/cours", "Cours"],
    ["/aria", "ARIA"],
  ],
  admin: [
    ["/admin/systeme", "Système"],
    ["/admin/utilisateurs", "Utilisateurs"],
    ["/enseignant/classes", "Classes"],
    ["/enseignant/documents", "Documents"],
    ["/aria", "ARIA"],
  ],
};

function buildNav(user) {
  const list = $("#nav-list");
  const box = $("#user-box");
  if (!list || !box) return;
  if (!user) {
    list.replaceChildren(
      h("li", {}, h("a", { href: "/connexion", text: "Se connecter" })),
      h("li", {}, h("a", { href: "/inscription", text: "Créer un compte" }))
    );
    return;
  }
  const here = location.pathname;
  list.replaceChildren(
    ...(NAV[user.role] || []).map(([href, label]) => {
      const current = here === href || (href !== "/" && here.startsWith(href + "/"));
      return h("li", {}, h("a", { href, text: label, "aria-current": current ? "page" : null }));
    })
  );
  box.replaceChildren(
    h("span", { class: "who" }, `${user.firstName} · ${ROLES[user.role] || user.role}`),
    h("button", { type: "button", class: "link-button", text: "Se déconnecter", onclick: () => logout() })
  );
  const brand = $(".brand");
  if (brand) brand.setAttribute("href", homeFor(user.role));
}

function menuToggle() {
  const button = $(".menu-toggle");
  const nav = $("#nav");
  if (!button || !nav) return;
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
}

async function start() {
  const page = document.body.dataset.page;
  const roles = (document.body.dataset.roles || "").split(",").filter(Boolean);
  menuToggle();
  let user = currentUser();
  if (roles.length) {
    user = requireRole(roles);
    if (!user) return;
  }
  buildNav(user);
  try {
    const module = await import(`/static/js/pages/${page}.js`);
    await module.default({ user });
  } catch (error) {
    console.error(error);
    const main = $("#main");
    main.append(h("p", { class: "form-error", role: "alert", text: error.message || "La page n'a pas pu se charger." }));
  }
  document.body.dataset.ready = "true";
}

start();
