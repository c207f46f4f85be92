// Student or parent registration, then signed in directly.
import { api, homeFor, login } from "/static/js/api.js";
import { $, busy, clearFormError, showFormError } from "/static/js/ui.js";

export default function () {
  const form = $("#register-form");
  const levelField = $("#level-field");
  const sync = () => {
    levelField.hidden = form.role.value !== "student";
  };
  for (const radio of form.querySelectorAll("input[name=role]")) radio.addEventListener("change", sync);
  sync();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormError(form);
    if (form.password.value !== form.confirm.value) {
      showFormError(form, { message: "Les deux mots de passe ne sont pas identiques." });
      return;
    }
    const role = form.role.value;
    const body = {
      role,
      firstName: form.firstName.value.trim(),
      lastName: form.lastName.value.trim(),
      email: form.email.value.trim(),
      password: form.password.value,
      classLevel: role === "student" ? form.classLevel.value : null,
    };
    try {
      await busy(form.querySelector("button[type=submit]"), "Création…", async () => {
        await api("/api/auth/register", { method: "POST", body });
        const user = await login(body.email, body.password);
        location.assign(homeFor(user.role));
      });
    } catch (error) {
      showFormError(form, error);
    }
  });
}
