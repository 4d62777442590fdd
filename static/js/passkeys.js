// Passkey buttons, shown only where the browser can use passkeys (the pages work without them,
// with an authenticator app), and a visible message when the browser's passkey prompt fails.
(function () {
  'use strict'
  // Shown once the page is parsed, in the same turn as allauth's scripts give the buttons
  // something to do: a button is never shown before it works.
  document.addEventListener('DOMContentLoaded', function () {
    if (!window.PublicKeyCredential) {
      return
    }
    document.querySelectorAll('.passkey-button').forEach(function (button) {
      button.hidden = false
    })
  })
  document.addEventListener('allauth.error', function (event) {
    event.preventDefault()
    document.querySelectorAll('.passkey-error').forEach(function (message) {
      message.hidden = false
    })
  })
})()
