// Kamqor console: progressive enhancement only; every page works without it. Loaded from this
// origin (the CSP allows no inline script). Data for charts comes in
// <script type="application/json"> blocks, which are data, not code.
(function () {
  "use strict";

  function drawCharts() {
    if (typeof window.Chart === "undefined") return;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: spec.labels,
          datasets: [
            { label: spec.onTimeLabel, data: spec.onTime, backgroundColor: "#00703c" },
            { label: spec.lateLabel, data: spec.late, backgroundColor: "#d4351c" },
          ],
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        },
      });
    });
  }

  function focusErrorSummary() {
    var summary = document.querySelector("[data-module='error-summary']");
    if (summary) summary.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary();
    drawCharts();
  });
})();
