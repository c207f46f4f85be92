// Admin: readiness checks, ingestion jobs, latest evaluation summary.
import { api } from "/static/js/api.js";
import { $, clear, emptyState, fmtDate, h, statusBadge } from "/static/js/ui.js";

const CHECKS = { database: "Base de données", vectors: "Base vectorielle (Qdrant)", redis: "Redis" };

function table(headers, rows) {
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col", text: t })))), h("tbody", {}, rows));
}

export default async function () {
  const s = await api("/api/system/status");
  clear(
    $("#checks"),
    h("p", {}, h("strong", { text: s.status === "ready" ? "Tout fonctionne." : "Un service ne répond pas." })),
    h("ul", { class: "checks" }, Object.entries(s.checks).map(([k, v]) => h("li", { class: v === "ok" ? "ok" : "ko" }, h("span", { text: `${CHECKS[k] || k} : ` }), h("strong", { text: v === "ok" ? "OK" : v })))),
    h("p", { class: "muted", text: `${s.chunks ?? "?"} passages dans la base de connaissances.` })
  );
  const counts = s.jobCounts || {};
  clear(
    $("#job-counts"),
    h("ul", { class: "checks" }, ["queued", "running", "succeeded", "failed"].map((k) => h("li", {}, statusBadge(k), h("span", { text: ` ${counts[k] || 0}` }))))
  );
  clear(
    $("#jobs"),
    s.recentJobs.length
      ? table(
          ["Fichier", "État", "Avancement", "Essais", "Mis à jour", "Erreur"],
          s.recentJobs.map((j) => h("tr", {}, h("th", { scope: "row", text: j.filename || j.documentId || j.id }), h("td", {}, statusBadge(j.status)), h("td", { text: j.total ? `${j.progress} / ${j.total}` : "—" }), h("td", { text: String(j.attempts) }), h("td", { text: fmtDate(j.updatedAt) }), h("td", { text: j.error || "" })))
        )
      : emptyState("Aucune tâche d'indexation.")
  );
  const evals = s.evals || [];
  clear(
    $("#evals"),
    evals.length
      ? h(
          "div",
          {},
          evals.map((e) =>
            h(
              "section",
              { class: "eval" },
              h("h3", { text: `Jeu « ${e.dataset} » — ${e.date ? fmtDate(e.date) : "date inconnue"}${e.questions ? ` — ${e.questions} questions` : ""}` }),
              h("p", { class: "muted small", text: `Fichier : evals/results/${e.file}` }),
              table(["Mesure", "Valeur"], Object.entries(e.metrics).map(([k, v]) => h("tr", {}, h("th", { scope: "row", text: k }), h("td", { text: typeof v === "number" ? v.toFixed(3).replace(".", ",") : String(v) }))))
            )
          )
        )
      : emptyState("Aucun rapport d'évaluation (lance `nexus eval`).")
  );
}
