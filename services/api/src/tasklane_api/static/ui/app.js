// Tasklane's report page: request a report, poll its task every second, then offer the signed download link;
// while it is queued or running it can be cancelled.
"use strict";

// The report picker is built from this table: a new report needs one line here and nothing in the page.
const REPORTS = {
  sales: { label: "Sales report", path: "/v1/reports/sales", formats: ["csv", "xlsx", "pdf"], dates: true },
  inventory: { label: "Inventory report", path: "/v1/reports/inventory", formats: ["csv", "xlsx", "pdf"], dates: false },
  customers: { label: "Customers export", path: "/v1/exports/customers", formats: ["csv", "xlsx"], dates: false },
  transactions: { label: "Transactions export", path: "/v1/exports/transactions", formats: ["csv", "xlsx"], dates: true },
};
const POLL_MS = 1000;
const FINISHED = ["completed", "failed", "cancelled"];
const $ = (id) => document.getElementById(id);
let current = null; // the status URL of the task on screen; following stops when it changes

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function refreshForm() {
  const report = REPORTS[$("report").value];
  const current = $("format").value;
  $("format").replaceChildren(...report.formats.map((f) => new Option(f.toUpperCase(), f)));
  if (report.formats.includes(current)) $("format").value = current;
  $("dates").hidden = !report.dates;
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${$("api-key").value.trim()}`, "Content-Type": "application/json" },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || `${response.status} ${response.statusText}`);
  return body;
}

function show(task) {
  $("progress").value = task.progress;
  $("status").textContent = `${task.status[0].toUpperCase()}${task.status.slice(1)} (${task.progress}%)`;
}

function finish(task) {
  $("cancel").hidden = true;
  $("request").disabled = false;
  current = null;
  if (task.status === "completed") {
    const link = $("download");
    link.href = task.result.file_url;
    link.textContent = `Download ${task.result.filename}`;
    link.hidden = false;
  } else if (task.status === "failed") {
    showError(task.error || "The report failed.");
  }
}

async function follow(statusUrl) {
  const task = await api(statusUrl);
  if (statusUrl !== current) return; // cancelled meanwhile: the cancel's answer is on screen
  show(task);
  if (FINISHED.includes(task.status)) finish(task);
  else setTimeout(() => follow(statusUrl).catch(fail), POLL_MS);
}

async function cancel() {
  const statusUrl = current;
  if (!statusUrl) return;
  $("cancel").disabled = true;
  try {
    const task = await api(statusUrl, { method: "DELETE" }); // DELETE /v1/tasks/{id}: 409 once finished
    show(task);
    finish(task);
  } catch (error) {
    showError(error.message); // it finished first: the next poll shows how
  } finally {
    $("cancel").disabled = false;
  }
}

function fail(error) {
  showError(error.message);
  $("cancel").hidden = true;
  $("request").disabled = false;
  current = null;
}

async function requestReport(event) {
  event.preventDefault();
  showError("");
  sessionStorage.setItem("tasklane-api-key", $("api-key").value.trim());
  const report = REPORTS[$("report").value];
  const body = { format: $("format").value };
  if (report.dates) Object.assign(body, { start_date: $("start-date").value, end_date: $("end-date").value });
  $("request").disabled = true;
  $("download").hidden = true;
  $("job").hidden = false;
  show({ status: "queued", progress: 0 });
  try {
    const accepted = await api(report.path, { method: "POST", body: JSON.stringify(body) });
    current = accepted.status_url;
    $("cancel").hidden = false;
    await follow(accepted.status_url);
  } catch (error) {
    $("job").hidden = true;
    fail(error);
  }
}

function init() {
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 30 * 86400000).toISOString().slice(0, 10);
  $("start-date").value = monthAgo;
  $("end-date").value = today;
  $("api-key").value = sessionStorage.getItem("tasklane-api-key") || "";
  $("report").replaceChildren(...Object.entries(REPORTS).map(([key, r]) => new Option(r.label, key)));
  $("report").addEventListener("change", refreshForm);
  $("report-form").addEventListener("submit", requestReport);
  $("cancel").addEventListener("click", cancel);
  refreshForm();
}

init();
