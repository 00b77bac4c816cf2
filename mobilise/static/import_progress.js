// An import's progress page while it runs: the progress is fetched again every few seconds and put in place of
// the old, announced politely. A <meta refresh> reloaded the whole page under a screen reader's cursor (WCAG
// 2.2.1); without JavaScript the page's "See the progress now" link does the same by hand.
(function () {
  "use strict";
  var region = document.getElementById("import-progress");
  if (!region || !window.fetch || !window.DOMParser) return;
  var every = Number(region.getAttribute("data-refresh")) || 2000;

  function fetchAgain() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer.status); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("import-progress");
        if (fresh && fresh.hasAttribute("data-refresh")) {
          region.innerHTML = fresh.innerHTML;
          window.setTimeout(fetchAgain, every);
        } else {
          // Finished: the whole result (the rejected rows too) in place of the page's content.
          document.querySelector("main").innerHTML = page.querySelector("main").innerHTML;
        }
      })
      .catch(function () { window.setTimeout(fetchAgain, every * 3); });
  }
  window.setTimeout(fetchAgain, every);
})();
