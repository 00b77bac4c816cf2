// Progressive help on the action, thanks and case pages: every link and form works without this script.
// It copies the letter (first, where a link is too short to carry it), reports which way to send was opened,
// and offers the phone's share sheet.
(function () {
  function say(id, text) {
    var status = document.getElementById(id);
    if (status) { status.textContent = text; }
  }
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Without the async clipboard (plain http): select a hidden textarea and copy it.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    var done = document.execCommand("copy");
    document.body.removeChild(area);
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }
  function letterText(id) {
    // textContent is the letter exactly as the server wrote it (innerText would follow the layout, or be empty folded).
    return document.getElementById(id).textContent;
  }
  var section = document.querySelector("[data-steps]");
  function report(way) {
    // A step, never an action; sendBeacon survives the page going away to the mail app.
    if (section && navigator.sendBeacon) { navigator.sendBeacon(section.dataset.steps + way); }
  }
  document.querySelectorAll("[data-step]").forEach(function (element) {
    element.addEventListener("click", function (event) {
      report(element.dataset.step);
      if (element.dataset.copyFirst) {
        event.preventDefault();
        var go = function () { window.location.href = element.href; };
        copy(letterText(element.dataset.copyFirst)).then(go, go);
      }
    });
  });
  // The copy buttons are hidden in the page: without this script they would do nothing.
  document.querySelectorAll("[data-target]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(letterText(button.dataset.target)).then(function () { say(button.dataset.status, button.dataset.copied); });
    });
  });
  var shareButton = document.getElementById("share");
  if (shareButton && navigator.share) {
    shareButton.hidden = false;
    shareButton.addEventListener("click", function () {
      navigator.share({ title: shareButton.dataset.title, url: shareButton.dataset.url }).catch(function () {});
    });
  }
  var copyLink = document.getElementById("copy-link");
  if (copyLink) {
    copyLink.hidden = false;
    copyLink.addEventListener("click", function () {
      var field = document.getElementById("share-link");
      copy(field.value).then(function () { copyLink.textContent = copyLink.dataset.copied; });
    });
  }
  var print = document.getElementById("print");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
  var thanks = document.getElementById("thanks");
  if (thanks) { thanks.focus(); }
})();
