// Sign in, then go where the visitor was going (a local path only) or to their home page.
import { homeFor, login } from "/static/js/api.js";
import { $, busy, clearFormError, showFormError } from "/static/js/ui.js";

function safeNext() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return next.startsWith("/") && !next.startsWith("//") ? next : null;
}

export default function () {
  const form = $("#login-form");
  $("#email").focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormError(form);
    const email = form.email.value.trim();
    const password = form.password.value;
    if (!email || !password) {
      showFormError(form, { message: "Indique ton email et ton mot de passe." });
      return;
    }
    try {
      const user = await busy(form.querySelector("button[type=submit]"), "Connexion…", () => login(email, password));
      location.assign(safeNext() || homeFor(user.role));
    } catch (error) {
      showFormError(form, error);
    }
  });
}
