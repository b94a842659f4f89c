// The print button of a notice: bound here, since the Content-Security-Policy runs no inline handler.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () {
    window.print();
  });
});
