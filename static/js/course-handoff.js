/* Prescriber hand-off summary: the PHQ-9 / GAD-7 trend chart (data from a json_script tag, so
   the Content-Security-Policy needs no inline script) and the print button. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var printButton = document.querySelector("[data-print]");
    if (printButton) {
      printButton.addEventListener("click", function () {
        window.print();
      });
    }

    var source = document.getElementById("score-trend-data");
    var canvas = document.getElementById("score-trend-chart");
    if (!source || !canvas || typeof window.Chart === "undefined") {
      return;
    }
    var series = JSON.parse(source.textContent);
    var dataset = function (label, points, colour, dash) {
      return {
        label: label,
        data: points,
        borderColor: colour,
        backgroundColor: colour,
        borderDash: dash,
        pointRadius: 4,
        tension: 0,
        spanGaps: true,
      };
    };
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: series.labels,
        datasets: [
          dataset("PHQ-9 (0–27)", series.phq9, "#0b5d66", []),
          dataset("GAD-7 (0–21)", series.gad7, "#8a4b08", [6, 4]),
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          y: { beginAtZero: true, suggestedMax: 27, title: { display: true, text: "Total score" } },
        },
        plugins: { legend: { position: "bottom", labels: { usePointStyle: true } } },
      },
    });
  });
})();
