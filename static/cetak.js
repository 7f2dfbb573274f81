// "Cetak" buttons (data-cetak) print the page. They stay hidden without JavaScript: the page
// then says to print from the browser's menu. An external file, since the CSP forbids inline
// script.
document.querySelectorAll("[data-cetak]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
