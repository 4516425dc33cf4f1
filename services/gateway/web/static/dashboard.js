// The dashboard's only behaviour besides the chart: a print button (inline handlers are
// refused by the Content-Security-Policy, so it is wired here).
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
});
