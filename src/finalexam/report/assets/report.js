"use strict";
(function () {
  var RANK = { info: 0, low: 1, medium: 2, unknown: 3, high: 3, critical: 4 };

  function byId(id) {
    return document.getElementById(id);
  }

  function filterFindings() {
    var text = byId("filter-text").value.trim().toLowerCase();
    var minimum = RANK[byId("filter-severity").value] || 0;
    var kind = byId("filter-kind").value;
    var showWaived = byId("filter-waived").checked;
    var rows = document.querySelectorAll("#findings tbody tr.finding");
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var visible =
        RANK[row.getAttribute("data-severity")] >= minimum &&
        (kind === "" || row.getAttribute("data-kind") === kind) &&
        (showWaived || row.getAttribute("data-status") !== "waived") &&
        (text === "" || row.getAttribute("data-text").indexOf(text) !== -1);
      row.hidden = !visible;
      var detail = row.nextElementSibling;
      if (detail && detail.classList.contains("evidence-row")) {
        detail.hidden = !visible || !row.classList.contains("expanded");
      }
      if (visible) shown++;
    }
    byId("shown-count").textContent = String(shown);
    byId("no-match").hidden = shown !== 0 || rows.length === 0;
  }

  function filterTable(inputId, tableId, countId) {
    var input = byId(inputId);
    if (!input) return;
    input.addEventListener("input", function () {
      var text = input.value.trim().toLowerCase();
      var rows = document.querySelectorAll("#" + tableId + " tbody tr");
      var shown = 0;
      for (var i = 0; i < rows.length; i++) {
        var visible = text === "" || rows[i].getAttribute("data-text").indexOf(text) !== -1;
        rows[i].hidden = !visible;
        if (visible) shown++;
      }
      byId(countId).textContent = String(shown);
    });
  }

  function toggleEvidence(event) {
    var button = event.target.closest("button.toggle");
    if (!button) return;
    var row = button.closest("tr");
    var open = row.classList.toggle("expanded");
    button.setAttribute("aria-expanded", open ? "true" : "false");
    var detail = row.nextElementSibling;
    if (detail && detail.classList.contains("evidence-row")) detail.hidden = !open;
  }

  document.addEventListener("DOMContentLoaded", function () {
    ["filter-text", "filter-severity", "filter-kind", "filter-waived"].forEach(function (id) {
      var element = byId(id);
      if (element) {
        element.addEventListener("input", filterFindings);
        element.addEventListener("change", filterFindings);
      }
    });
    var findings = byId("findings");
    if (findings) {
      findings.addEventListener("click", toggleEvidence);
      filterFindings();
    }
    filterTable("filter-components", "components", "components-count");
    filterTable("filter-indicators", "indicators", "indicators-count");
    document.body.setAttribute("data-ready", "true");
  });
})();
