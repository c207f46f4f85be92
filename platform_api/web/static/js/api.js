// The JSON API from the browser: tokens, automatic refresh, errors in French, SSE over fetch, uploads.

const KEY = "aria.session";

export class ApiError extends Error {
  constructor(status, code, detail, fields = []) {
    super(detail || "Une erreur est survenue.");
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

export function getSession() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || null;
  } catch {
    return null;
  }
}

export function saveSession(session) {
  localStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession() {
  localStorage.removeItem(KEY);
}

export function currentUser() {
  const s = getSession();
  return s ? s.user : null;
}

export function homeFor(role) {
  return { student: "/eleve", teacher: "/enseignant/classes", parent: "/parent", admin: "/admin/systeme" }[role] || "/";
}

function toLogin() {
  const next = location.pathname + location.search;
  location.assign("/connexion?next=" + encodeURIComponent(next));
}

let refreshing = null;

async function refreshTokens() {
  const s = getSession();
  if (!s || !s.refreshToken) return false;
  if (!refreshing) {
    refreshing = (async () => {
      const r = await fetch("/api/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refreshToken: s.refreshToken }),
      });
      if (!r.ok) return false;
      const t = await r.json();
      saveSession({ ...getSession(), accessToken: t.accessToken, refreshToken: t.refreshToken });
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function errorOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    /* not JSON */
  }
  const messages = {
    413: "Le fichier est trop volumineux.",
    429: "Trop de demandes : attends un peu avant de réessayer.",
    500: "Le serveur a rencontré un problème. Réessaie dans un instant.",
    503: "Le service est momentanément indisponible.",
  };
  const detail = body.detail && typeof body.detail === "string" ? body.detail : messages[response.status];
  return new ApiError(response.status, body.error || "http_" + response.status, detail, body.fields || []);
}

async function send(path, options, retry = true) {
  const s = getSession();
  const headers = { ...(options.headers || {}) };
  if (s && s.accessToken) headers.Authorization = "Bearer " + s.accessToken;
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch {
    throw new ApiError(0, "network", "Connexion au serveur impossible. Vérifie ton réseau.");
  }
  if (response.status === 401 && s && retry && !path.startsWith("/api/auth/login")) {
    if (await refreshTokens()) return send(path, options, false);
    clearSession();
    toLogin();
    throw new ApiError(401, "unauthenticated", "Ta session a expiré : reconnecte-toi.");
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

/** Call the API; JSON in and out. */
export async function api(path, { method = "GET", body, signal } = {}) {
  const options = { method, signal, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await send(path, options);
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

/** POST a JSON body and read Server-Sent Events: yields {event, data}. */
export async function* sse(path, body, signal) {
  const response = await send(path, {
    method: "POST",
    signal,
    headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify(body),
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (!data.length) continue; // keep-alive comments
      let parsed;
      try {
        parsed = JSON.parse(data.join("\n"));
      } catch {
        parsed = data.join("\n");
      }
      yield { event, data: parsed };
    }
  }
}

/** Multipart upload with progress (XMLHttpRequest: fetch cannot report upload progress). */
export function upload(path, form, onProgress, retry = true) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    const s = getSession();
    if (s && s.accessToken) xhr.setRequestHeader("Authorization", "Bearer " + s.accessToken);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "Envoi impossible : vérifie ta connexion."));
    xhr.onload = async () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status === 401 && retry && (await refreshTokens())) {
        upload(path, form, onProgress, false).then(resolve, reject);
        return;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        const fallback = xhr.status === 413 ? "Le fichier est trop volumineux." : "L'envoi a échoué.";
        reject(new ApiError(xhr.status, body.error || "http_" + xhr.status, body.detail || fallback, body.fields || []));
      }
    };
    xhr.send(form);
  });
}

export async function login(email, password) {
  const out = await api("/api/auth/login", { method: "POST", body: { email, password } });
  saveSession({ accessToken: out.accessToken, refreshToken: out.refreshToken, user: out.user });
  try {
    const me = await api("/api/auth/me");
    saveSession({ ...getSession(), user: me });
  } catch {
    /* the login answer's user is enough */
  }
  return getSession().user;
}

export async function logout() {
  const s = getSession();
  clearSession();
  if (s && s.refreshToken) {
    try {
      await fetch("/api/auth/logout", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refreshToken: s.refreshToken }),
      });
    } catch {
      /* signed out locally anyway */
    }
  }
  location.assign("/connexion");
}

/** The signed-in user when their role may see this page; otherwise redirect (to sign in, or to their home). */
export function requireRole(roles) {
  const user = currentUser();
  if (!user) {
    toLogin();
    return null;
  }
  if (roles.length && !roles.includes(user.role)) {
    location.replace(homeFor(user.role));
    return null;
  }
  return user;
}
