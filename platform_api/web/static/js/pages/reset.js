// Choose a new password with the code of the reset mail (the mail's link fills it in).
import { api } from "/static/js/api.js";
import { $, busy, clearFormError, h, showFormError } from "/static/js/ui.js";

export default function () {
  const form = $("#reset-form");
  const token = new URLSearchParams(location.search).get("token");
  if (token) {
    form.token.value = token;
    form.password.focus();
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormError(form);
    if (form.password.value !== form.confirm.value) {
      showFormError(form, { message: "Les deux mots de passe ne sont pas identiques." });
      return;
    }
    try {
      const out = await busy(form.querySelector("button[type=submit]"), "Enregistrement…", () =>
        api("/api/auth/password/reset", { method: "POST", body: { token: form.token.value.trim(), password: form.password.value } })
      );
      const done = $("#reset-done");
      done.replaceChildren(h("p", { text: out.message }), h("p", {}, h("a", { href: "/connexion", text: "Se connecter" })));
      done.hidden = false;
      form.hidden = true;
    } catch (error) {
      showFormError(form, error);
    }
  });
}
