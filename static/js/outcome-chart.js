/* PHQ-9 / GAD-7 outcome charts (templates/patients/_outcome_chart.html): one line chart per
   questionnaire, its severity bands shaded behind the line and the doses marked as dashed
   vertical lines. The data comes from a json_script tag (patients.outcome_selectors), so the
   Content-Security-Policy needs no inline script. The x axis counts days from the first date. */
(function () {
  "use strict";

  var LINE = { phq9: "#0b5d66", gad7: "#8a4b08" };
  // Band fills, lowest severity first: faint, so the line and the labels stay easy to read.
  var BAND = [
    "rgba(25, 135, 84, 0.07)",
    "rgba(255, 193, 7, 0.10)",
    "rgba(253, 126, 20, 0.10)",
    "rgba(220, 53, 69, 0.09)",
    "rgba(220, 53, 69, 0.16)",
  ];
  var DOSE = "#6f42c1";

  // Draws the severity bands (behind the grid) and the dose lines (behind the line).
  var outcomeMarks = {
    id: "outcomeMarks",
    beforeDraw: function (chart, args, options) {
      var area = chart.chartArea;
      var y = chart.scales.y;
      var ctx = chart.ctx;
      if (!area || !options.bands) {
        return;
      }
      ctx.save();
      ctx.font = "11px system-ui, sans-serif";
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      options.bands.forEach(function (band) {
        // Totals are whole numbers: a band covers low - 0.5 to high + 0.5 on the axis.
        var top = y.getPixelForValue(Math.min(band.high + 0.5, options.max));
        var bottom = y.getPixelForValue(Math.max(band.low - 0.5, 0));
        ctx.fillStyle = BAND[band.level] || BAND[0];
        ctx.fillRect(area.left, top, area.right - area.left, bottom - top);
        ctx.fillStyle = "rgba(33, 37, 41, 0.55)";
        // The band's name in the margin right of the plot, clear of the line's last point.
        ctx.fillText(band.label, area.right + 6, (top + bottom) / 2);
      });
      ctx.restore();
    },
    beforeDatasetsDraw: function (chart, args, options) {
      var area = chart.chartArea;
      var x = chart.scales.x;
      var ctx = chart.ctx;
      if (!area || !options.doses) {
        return;
      }
      ctx.save();
      ctx.strokeStyle = DOSE;
      ctx.fillStyle = DOSE;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([5, 4]);
      ctx.font = "600 11px system-ui, sans-serif";
      ctx.textAlign = "left";
      ctx.textBaseline = "top";
      options.doses.forEach(function (dose) {
        var left = x.getPixelForValue(dose.x);
        ctx.beginPath();
        ctx.moveTo(left, area.top);
        ctx.lineTo(left, area.bottom);
        ctx.stroke();
        ctx.fillText(dose.label, left + 3, area.top + 2);
      });
      ctx.restore();
    },
  };

  function draw(canvas, data, instrument) {
    var tickLabels = {};
    data.ticks.forEach(function (tick) {
      tickLabels[tick.x] = tick.label;
    });
    // A little room either side so the first and last points are not cut in half.
    var pad = Math.max(1, Math.round(data.last_day * 0.03));
    var bandLows = instrument.bands.map(function (band) {
      return band.low;
    });
    return new window.Chart(canvas, {
      type: "line",
      data: {
        datasets: [
          {
            label: instrument.name + " total",
            data: instrument.points,
            borderColor: LINE[instrument.key] || "#0b5d66",
            backgroundColor: LINE[instrument.key] || "#0b5d66",
            borderWidth: 2.5,
            pointRadius: 4,
            pointHoverRadius: 6,
            tension: 0,
          },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: { xAxisKey: "x", yAxisKey: "y" },
        // Room right of the plot for the band names ("moderately severe").
        layout: { padding: { right: 120 } },
        scales: {
          x: {
            type: "linear",
            min: -pad,
            max: data.last_day + pad,
            afterBuildTicks: function (axis) {
              // A tick under every date, thinned so two close dates never print over each other
              // (the doses carry their own label on their line).
              var perDay = axis.chart.width / (data.last_day + 2 * pad || 1);
              var kept = [];
              data.ticks.forEach(function (tick) {
                var last = kept[kept.length - 1];
                if (last === undefined || (tick.x - last) * perDay >= 64) {
                  kept.push(tick.x);
                }
              });
              axis.ticks = kept.map(function (value) {
                return { value: value };
              });
            },
            ticks: {
              autoSkip: true,
              maxRotation: 0,
              callback: function (value) {
                return tickLabels[value] || "";
              },
            },
            grid: { display: false },
          },
          y: {
            min: 0,
            max: instrument.max,
            afterBuildTicks: function (axis) {
              axis.ticks = bandLows.concat([instrument.max]).map(function (value) {
                return { value: value };
              });
            },
            grid: { color: "rgba(0, 0, 0, 0.06)" },
            title: { display: true, text: instrument.name + " (0–" + instrument.max + ")" },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: function (items) {
                return items.length ? items[0].raw.on : "";
              },
              label: function (item) {
                return instrument.name + ": " + item.raw.y + " (" + item.raw.band + ")";
              },
            },
          },
          outcomeMarks: { bands: instrument.bands, max: instrument.max, doses: data.doses },
        },
      },
      plugins: [outcomeMarks],
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof window.Chart === "undefined") {
      return;
    }
    document.querySelectorAll("[data-outcome-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.outcomeData);
      if (!source) {
        return;
      }
      var data = JSON.parse(source.textContent);
      var instrument = data.instruments.find(function (each) {
        return each.key === canvas.dataset.outcomeChart;
      });
      if (instrument) {
        draw(canvas, data, instrument);
      }
    });
  });
})();
