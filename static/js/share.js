// Adds two buttons to each share box, where the browser can do what they offer: copy the
// link, and open the system's share sheet (Web Share API). Without this script the box keeps
// its plain links to each network, and the buttons stay hidden.
(function () {
  "use strict";

  var boxes = document.querySelectorAll("[data-share]");
  Array.prototype.forEach.call(boxes, function (box) {
    var url = box.getAttribute("data-share-url");
    var tools = box.querySelector("[data-share-tools]");
    var copy = box.querySelector("[data-share-copy]");
    var native = box.querySelector("[data-share-native]");
    var status = box.querySelector("[data-share-status]");
    var shown = false;

    function say(attribute) {
      // Emptied first, so that the same message twice is announced twice.
      status.textContent = "";
      window.setTimeout(function () {
        status.textContent = status.getAttribute(attribute);
      }, 50);
    }

    // The asynchronous clipboard exists only in secure contexts (HTTPS, or this machine).
    if (copy && status && navigator.clipboard && navigator.clipboard.writeText) {
      copy.addEventListener("click", function () {
        navigator.clipboard.writeText(url).then(
          function () {
            say("data-copied");
          },
          function () {
            say("data-copy-failed");
          }
        );
      });
      copy.hidden = false;
      shown = true;
    }

    if (native && navigator.share) {
      var data = {
        title: box.getAttribute("data-share-title"),
        text: box.getAttribute("data-share-text"),
        url: url,
      };
      if (!navigator.canShare || navigator.canShare(data)) {
        native.addEventListener("click", function () {
          // Rejected when the visitor closes the sheet: nothing to say then.
          navigator.share(data).catch(function () {});
        });
        native.hidden = false;
        shown = true;
      }
    }

    if (tools && shown) {
      tools.hidden = false;
    }
  });
})();
