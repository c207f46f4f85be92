// Home: a signed-in visitor goes straight to their own page.
import { currentUser, homeFor } from "/static/js/api.js";

export default function () {
  const user = currentUser();
  if (user && !new URLSearchParams(location.search).has("q")) location.replace(homeFor(user.role));
}
