// Ask for a password reset link.
import { api } from "/static/js/api.js";
import { $, busy, clearFormError, showFormError } from "/static/js/ui.js";

export default function () {
  const form = $("#forgot-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormError(form);
    try {
      const out = await busy(form.querySelector("button[type=submit]"), "Envoi…", () =>
        api("/api/auth/password/forgot", { method: "POST", body: { email: form.email.value.trim() } })
      );
      const done = $("#forgot-done");
      done.textContent = out.message;
      done.hidden = false;
      form.hidden = true;
    } catch (error) {
      showFormError(form, error);
    }
  });
}
