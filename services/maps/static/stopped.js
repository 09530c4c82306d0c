"use strict";
// Start a job on demand through the jobs API, then show its viewer.
(function () {
  const main = document.getElementById("stopped");
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
