// The overview's one chart: the figures come from the table's own data, embedded as JSON by the server.
(function () {
  var data = JSON.parse(document.getElementById("rates-data").textContent);
  new Chart(document.getElementById("rates"), {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.series.map(function (s) { return { label: s.label, data: s.data, backgroundColor: s.color }; })
    },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { min: 0, max: 100 } } }
  });
})();
