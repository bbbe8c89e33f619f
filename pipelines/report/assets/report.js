/* Draws every figure of the page from the JSON embedded in #dti-figures (plotly.js is bundled
   in assets/; the report makes no network request). Marks <html data-charts-rendered="n"> when
   done, or data-charts-error when a chart failed, so a browser test can wait for it. */
(function () {
  "use strict";
  var holder = document.getElementById("dti-figures");
  if (!holder) {
    document.documentElement.setAttribute("data-charts-rendered", "0");
    return;
  }
  var figures = JSON.parse(holder.textContent);
  var config = { displayModeBar: false, responsive: true };
  var ids = Object.keys(figures);
  var jobs = ids.map(function (id) {
    var element = document.getElementById(id);
    if (!element) {
      return Promise.reject(new Error("no element for figure " + id));
    }
    return Plotly.newPlot(element, figures[id].data, figures[id].layout, config);
  });
  Promise.all(jobs).then(
    function () {
      document.documentElement.setAttribute("data-charts-rendered", String(ids.length));
    },
    function (error) {
      document.documentElement.setAttribute("data-charts-error", String(error));
      console.error("DTI chart error: " + error);
    }
  );
})();
