// Copy the model letter, and share the public case page (the phone's share sheet where there is one).
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
  var copyButton = document.getElementById("copy-letter");
  if (copyButton) {
    copyButton.addEventListener("click", function () {
      // textContent is the letter exactly as the server wrote it (innerText would follow the layout).
      var letter = document.getElementById(copyButton.dataset.target).textContent;
      copy(letter).then(function () { say("copy-status", copyButton.dataset.copied); });
    });
  }
  var shareButton = document.getElementById("share");
  if (shareButton) {
    shareButton.addEventListener("click", function () {
      var url = shareButton.dataset.url;
      if (navigator.share) {
        navigator.share({ title: shareButton.dataset.title, url: url }).catch(function () {});
      } else {
        copy(url).then(function () { shareButton.textContent = shareButton.dataset.copied; });
      }
    });
  }
  var thanks = document.getElementById("thanks");
  if (thanks) { thanks.focus(); }
})();
