// Keyboard shortcuts for console pages: an element with data-key="x" is clicked when x is
// pressed outside a text field (a text field with data-key is focused instead); "?" shows or
// hides the #help section. After htmx swaps a preview in, its Confirm button takes focus, so
// Enter confirms. Loaded as a file (the CSP allows no inline script).
(function () {
  'use strict';
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  function toggleHelp() {
    var help = document.getElementById('help');
    if (help) help.hidden = !help.hidden;
    return Boolean(help);
  }
  document.addEventListener('click', function (event) {
    if (event.target.closest && event.target.closest('#help-toggle')) toggleHelp();
  });
  document.addEventListener('keydown', function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === '?') {
      if (toggleHelp()) event.preventDefault();
      return;
    }
    var target = document.querySelector('[data-key="' + CSS.escape(event.key) + '"]');
    if (!target) return;
    event.preventDefault();
    if (typing(target)) target.focus(); else target.click();
  });
  document.addEventListener('htmx:afterSwap', function (event) {
    var confirm = event.target.querySelector && event.target.querySelector('#confirm');
    if (confirm) confirm.focus();
  });
})();
