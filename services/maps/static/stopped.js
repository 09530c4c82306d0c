"use strict";
// Start a job on demand through the jobs API, then show its viewer.
(function () {
  const main = document.getElementById("stopped");
  const bar = document.getElementById("progress");
  if (bar) follow(main.dataset.job, bar);
  const button = document.getElementById("start");
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    const response = await fetch(`/jobs/${encodeURIComponent(main.dataset.job)}/on_demand`,
                                 {method: "POST"});
    if (response.ok) {
      window.location.reload();
    } else {
      document.getElementById("message").textContent = await response.text();
      button.disabled = false;
    }
  });
})();

// A running batch job: its progress over /jobs/{id}/subscribe; reload when it ends.
// Browsers cannot set headers on a WebSocket: a token from /auth/login goes in the query.
async function follow(job, bar) {
  const text = document.getElementById("progress-text");
  const login = await fetch("/auth/login", {credentials: "same-origin"});
  const token = login.ok ? (await login.json()).token : "";
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(
    `${scheme}://${window.location.host}/jobs/${encodeURIComponent(job)}/subscribe` +
    `?access_token=${encodeURIComponent(token)}`);
  socket.addEventListener("message", (event) => {
    const update = JSON.parse(event.data);
    bar.value = update.progress;
    text.textContent = `${update.progress}% (${update.status})`;
  });
  socket.addEventListener("close", (event) => {
    if (event.code === 1000) {
      window.location.reload();
    } else {
      document.getElementById("message").textContent =
        `Progress unavailable: ${event.reason || event.code}`;
    }
  });
}
