// Checks a signer's receipt against the public log in the browser itself: the site sends a
// proof and a signed head, and this script verifies both with Web Crypto, so that nobody has
// to take the site's word. It is the verifying half of petition/merkle.py, line for line.
// Without JavaScript, or without Ed25519 in Web Crypto, the form asks the site instead.
(function () {
  "use strict";

  var form = document.querySelector("[data-log-check]");
  var result = document.querySelector("[data-log-result]");
  if (!form || !result || !window.fetch || !window.crypto || !window.crypto.subtle) {
    return;
  }
  var subtle = window.crypto.subtle;
  var RECEIPT = /^[A-Za-z0-9_-]{22}$/;

  function bytes(text) {
    return new TextEncoder().encode(text);
  }

  function fromBase64(text) {
    var raw = atob(text);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      out[i] = raw.charCodeAt(i);
    }
    return out;
  }

  function concat() {
    var size = 0;
    var i;
    for (i = 0; i < arguments.length; i++) {
      size += arguments[i].length;
    }
    var out = new Uint8Array(size);
    var at = 0;
    for (i = 0; i < arguments.length; i++) {
      out.set(arguments[i], at);
      at += arguments[i].length;
    }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) {
      return false;
    }
    for (var i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) {
        return false;
      }
    }
    return true;
  }

  function sha256(data) {
    return subtle.digest("SHA-256", data).then(function (digest) {
      return new Uint8Array(digest);
    });
  }

  function nodeHash(left, right) {
    return sha256(concat(new Uint8Array([1]), left, right));
  }

  // RFC 9162, section 2.1.3.2: the root an inclusion proof leads to. Sizes stay far below
  // 2^53, so plain numbers and Math.floor stand in for the shifts.
  function rootFromInclusion(hash, index, size, path) {
    if (index >= size) {
      return Promise.reject(new Error("index"));
    }
    var fn = index;
    var sn = size - 1;
    var r = Promise.resolve(hash);
    for (var i = 0; i < path.length; i++) {
      if (sn === 0) {
        return Promise.reject(new Error("long"));
      }
      var p = path[i];
      if (fn % 2 === 1 || fn === sn) {
        r = r.then(nodeHash.bind(null, p));
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = Math.floor(fn / 2);
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        r = r.then(
          (function (sibling) {
            return function (current) {
              return nodeHash(current, sibling);
            };
          })(p)
        );
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0) {
      return Promise.reject(new Error("short"));
    }
    return r;
  }

  // The head's checkpoint is a signed note: its body, a blank line, then "— name base64",
  // whose bytes are the key's 4-byte id and the 64-byte Ed25519 signature of the body.
  function verifyHead(head) {
    var note = head.checkpoint;
    var split = note.indexOf("\n\n");
    var body = bytes(note.slice(0, split + 1));
    var expected =
      head.origin + "\n" + head.tree_size + "\n" + head.root_hash + "\n" +
      "count " + head.count + "\ntime " + head.timestamp + "\n";
    if (split < 0 || note.slice(0, split + 1) !== expected) {
      return Promise.reject(new Error("checkpoint"));
    }
    var signature = fromBase64(head.signature);
    return subtle
      .importKey("raw", fromBase64(head.public_key), { name: "Ed25519" }, false, ["verify"])
      .then(function (key) {
        return subtle.verify({ name: "Ed25519" }, key, signature, body);
      })
      .then(function (valid) {
        if (!valid) {
          throw new Error("signature");
        }
      });
  }

  function say(text) {
    result.textContent = "";
    var p = document.createElement("p");
    p.className = "notice";
    p.textContent = text;
    result.appendChild(p);
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) {
      return values[name];
    });
  }

  var ed25519 = subtle
    .generateKey({ name: "Ed25519" }, false, ["sign", "verify"])
    .then(
      function () {
        return true;
      },
      function () {
        return false;
      }
    );

  form.addEventListener("submit", function (event) {
    var field = form.querySelector("[name=receipt]");
    var receipt = field.value.replace(/\s+/g, "");
    if (!RECEIPT.test(receipt)) {
      return; // the site explains what a receipt looks like
    }
    event.preventDefault();
    ed25519.then(function (supported) {
      if (!supported) {
        form.submit();
        return;
      }
      check(receipt);
    });
  });

  function check(receipt) {
    say(result.getAttribute("data-checking"));
    var url = form.getAttribute("data-api-inclusion") + "?receipt=" + encodeURIComponent(receipt);
    var answer;
    // The API answers in the language asked for: the page's, not the browser's.
    var language = document.documentElement.lang || "en";
    fetch(url, { headers: { Accept: "application/json", "Accept-Language": language } })
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) {
            say(data.error || result.getAttribute("data-failed"));
            return null;
          }
          answer = data;
          return sha256(bytes(receipt))
            .then(function (digest) {
              return sha256(concat(new Uint8Array([0, 0]), digest));
            })
            .then(function (leafHash) {
              if (!equal(leafHash, fromBase64(data.leaf_hash))) {
                throw new Error("leaf");
              }
              var path = data.audit_path.map(fromBase64);
              return rootFromInclusion(leafHash, data.leaf_index, data.tree_size, path);
            })
            .then(function (root) {
              var head = data.head;
              if (data.tree_size !== head.tree_size || !equal(root, fromBase64(head.root_hash))) {
                throw new Error("root");
              }
              return verifyHead(head);
            })
            .then(function () {
              return true;
            });
        });
      })
      .then(
        function (verified) {
          if (!verified) {
            return;
          }
          var format = new Intl.NumberFormat(document.documentElement.lang || undefined);
          say(
            fill(result.getAttribute("data-counted"), {
              index: answer.leaf_index,
              time: answer.head.timestamp,
              count: format.format(answer.head.count),
              fingerprint: answer.head.key_fingerprint,
            })
          );
        },
        function (error) {
          var proofError = answer && error && error.message !== "Failed to fetch";
          say(result.getAttribute(proofError ? "data-mismatch" : "data-failed"));
        }
      );
  }
})();
