// Teacher uploads: drag and drop several files, each sent and indexed with live progress; the document list.
import { api, upload } from "/static/js/api.js";
import { $, clear, emptyState, fmtDate, h, statusBadge, toast } from "/static/js/ui.js";

const ERRORS = {
  empty_file: "Le fichier est vide.",
  file_too_large: "Le fichier est trop volumineux.",
  type_mismatch: "Le contenu du fichier ne correspond pas à son extension.",
  unsupported_type: "Ce type de fichier n'est pas pris en charge (PDF, Markdown, DOCX, HTML ou TXT).",
  encrypted_pdf: "Ce PDF est protégé par un mot de passe.",
  no_text_layer: "Ce PDF ne contient pas de texte (document scanné ?).",
  no_text: "Aucun texte utilisable n'a été trouvé dans ce fichier.",
};
const VISIBILITY = { class: "Classes", private: "Privé", public: "Public" };
const POLL_MS = 700;

let classes = [];

function frenchError(code, detail) {
  return detail || ERRORS[code] || "L'indexation a échoué.";
}

function fileRow(file) {
  const bar = h("progress", { max: 100, value: 0, "aria-label": `Progression de ${file.name}` });
  const status = h("span", { class: "upload-status", text: "En attente…" });
  const li = h("li", { class: "upload-item" }, h("span", { class: "upload-name", text: file.name }), bar, status);
  $("#upload-list").append(li);
  return {
    li,
    set(percent, text, tone) {
      bar.value = Math.round(percent);
      status.textContent = text;
      li.dataset.state = tone || "";
    },
  };
}

async function watch(doc, row) {
  for (;;) {
    let job;
    try {
      job = await api(`/api/documents/${encodeURIComponent(doc.id)}/status`);
    } catch (error) {
      row.set(0, error.message, "failed");
      return;
    }
    if (job.status === "succeeded") {
      const d = await api(`/api/documents/${encodeURIComponent(doc.id)}`);
      if (d.status === "failed") row.set(100, frenchError(d.errorCode, d.error), "failed");
      else row.set(100, `Prêt : ${d.chunks} passage(s) indexé(s)`, "ready");
      loadDocuments();
      return;
    }
    if (job.status === "failed") {
      const d = await api(`/api/documents/${encodeURIComponent(doc.id)}`);
      row.set(100, frenchError(d.errorCode, d.error || job.error), "failed");
      loadDocuments();
      return;
    }
    if (job.status === "running") row.set(30 + job.percent * 0.7, `Indexation : ${Math.round(job.percent)} %`, "running");
    else row.set(30, "En file d'attente…", "queued");
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function sendFile(file, options) {
  const row = fileRow(file);
  const form = new FormData();
  form.append("file", file, file.name);
  form.append("visibility", options.visibility);
  for (const id of options.classIds) form.append("classIds", id);
  for (const lv of options.levels) form.append("levels", lv);
  try {
    const doc = await upload("/api/documents", form, (ratio) => row.set(ratio * 30, `Envoi : ${Math.round(ratio * 100)} %`, "sending"));
    row.set(30, "Envoyé, en attente d'indexation…", "queued");
    await watch(doc, row);
  } catch (error) {
    row.set(0, frenchError(error.code, error.message), "failed");
  }
}

function options() {
  const form = $("#upload-form");
  return {
    visibility: form.querySelector("input[name=visibility]:checked").value,
    classIds: [...form.querySelectorAll("input[name=classIds]:checked")].map((i) => i.value),
    levels: [...form.querySelectorAll("input[name=levels]:checked")].map((i) => i.value),
  };
}

function sendAll(files) {
  const opts = options();
  if (!files.length) {
    toast("Choisis au moins un fichier.");
    return false;
  }
  if (opts.visibility === "class" && !opts.classIds.length) {
    toast("Coche au moins une classe, ou choisis « moi seulement ».");
    return false;
  }
  for (const file of files) sendFile(file, opts);
  return true;
}

export async function loadDocuments() {
  const box = $("#document-list");
  const docs = await api("/api/documents");
  const names = new Map(classes.map((c) => [c.id, c.name]));
  if (!docs.length) {
    clear(box, emptyState("Aucun document pour l'instant."));
    return;
  }
  clear(
    box,
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, ["Document", "État", "Passages", "Visible par", "Ajouté le", ""].map((t) => h("th", { scope: "col", text: t })))),
      h(
        "tbody",
        {},
        docs.map((d) =>
          h(
            "tr",
            { "data-document": d.id },
            h("th", { scope: "row" }, h("span", { text: d.title }), h("br"), h("span", { class: "muted small", text: `${d.filename} · ${d.format.toUpperCase()} · ${(d.sizeBytes / 1024).toFixed(0)} Ko` })),
            h("td", {}, statusBadge(d.status), d.status === "failed" ? h("p", { class: "small error-text", text: frenchError(d.errorCode, d.error) }) : null),
            h("td", { text: String(d.chunks) }),
            h("td", { text: d.visibility === "class" ? d.classIds.map((id) => names.get(id) || "classe").join(", ") : VISIBILITY[d.visibility] }),
            h("td", { text: fmtDate(d.createdAt) }),
            h(
              "td",
              { class: "row-actions" },
              d.status === "failed"
                ? h("button", {
                    type: "button",
                    class: "link-button",
                    text: "Réessayer",
                    onclick: async () => {
                      await api(`/api/documents/${encodeURIComponent(d.id)}/retry`, { method: "POST" });
                      loadDocuments();
                    },
                  })
                : null,
              h("button", {
                type: "button",
                class: "link-button danger",
                text: "Supprimer",
                "aria-label": `Supprimer ${d.title}`,
                onclick: async () => {
                  if (!confirm(`Supprimer « ${d.title} » ? ARIA ne pourra plus le citer.`)) return;
                  await api(`/api/documents/${encodeURIComponent(d.id)}`, { method: "DELETE" });
                  toast("Document supprimé.");
                  loadDocuments();
                },
              })
            )
          )
        )
      )
    )
  );
}

export default async function ({ user }) {
  if (user.role === "admin") $("#public-choice").hidden = false;
  classes = await api("/api/classes");
  clear(
    $("#class-checkboxes"),
    classes.length
      ? classes.map((c, i) => h("label", {}, h("input", { type: "checkbox", name: "classIds", value: c.id, checked: i === 0 && classes.length === 1 }), ` ${c.name}`))
      : emptyState("Crée d'abord une classe pour partager des documents avec elle.")
  );
  const form = $("#upload-form");
  const input = $("#files");
  const zone = $("#drop-zone");
  const sync = () => {
    $("#class-choices").hidden = options().visibility !== "class";
  };
  for (const r of form.querySelectorAll("input[name=visibility]")) r.addEventListener("change", sync);
  sync();
  let pending = [];
  const choose = (files) => {
    pending = files;
    $("#selected-files").textContent = files.length
      ? `${files.length} fichier(s) choisi(s) : ${files.map((f) => f.name).join(", ")}`
      : "";
  };
  input.addEventListener("change", () => choose([...input.files]));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (sendAll(pending)) {
      choose([]);
      input.value = "";
    }
  });
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => {
      e.preventDefault();
      zone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) zone.addEventListener(type, () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    choose([...(e.dataTransfer?.files || [])]);
  });
  await loadDocuments();
}
