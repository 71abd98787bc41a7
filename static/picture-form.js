// Forms with a face picture (enrol, search): check the picture in the browser before
// it is uploaded, preview it, and show progress while the form is sent. The rules come from the page
// (data-rules, rendered from facesite/image_rules.py), never from this file.
// Without JavaScript the form still works; the server checks everything again.
(function () {
  "use strict";
  var input = document.getElementById("faceImage");
  var form = input && input.form;
  if (!form) { return; }
  var rules = JSON.parse(input.getAttribute("data-rules"));
  var errorBox = document.getElementById("faceImage-error");
  var preview = document.getElementById("picture-preview");
  var previewImg = document.getElementById("picture-preview-img");
  var caption = document.getElementById("picture-preview-caption");
  var keptPicture = form.querySelector("input[name=keptPicture]");

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== errorBox.id;
    });
    if (message) { described.push(errorBox.id); }
    input.setAttribute("aria-describedby", described.join(" "));
    input.setCustomValidity(message);
  }

  function checkFile(file) {
    var name = file.name.toLowerCase();
    var typeOk = rules.mimeTypes.indexOf(file.type) >= 0 ||
      rules.extensions.some(function (ext) { return name.endsWith(ext); });
    if (!typeOk) { return Promise.resolve(rules.messages.notImage); }
    if (file.size >= rules.maxBytes) { return Promise.resolve(rules.messages.tooLarge); }
    return new Promise(function (resolve) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var w = img.naturalWidth, h = img.naturalHeight;
        var ok = w >= rules.minSide && h >= rules.minSide && w <= rules.maxSide && h <= rules.maxSide;
        previewImg.src = url;
        caption.textContent = file.name + ": " + w + " × " + h + " px, " + Math.round(file.size / 1024) + " KB";
        preview.hidden = false;
        resolve(ok ? "" : rules.messages.resolution);
      };
      img.onerror = function () { URL.revokeObjectURL(url); resolve(rules.messages.notImage); };
      img.src = url;
    });
  }

  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file) { showError(""); return; }
    checkFile(file).then(function (message) {
      showError(message);
      if (message) { preview.hidden = true; }
      else if (keptPicture) { keptPicture.value = ""; }  // the new file replaces the kept one
      return message;
    });
  });

  form.addEventListener("submit", function (event) {
    if (input.validationMessage) {
      event.preventDefault();
      input.focus();
      return;
    }
    var button = form.querySelector("[type=submit]");
    if (form.dataset.sending === "yes") { event.preventDefault(); return; }  // a double click
    form.dataset.sending = "yes";
    button.setAttribute("aria-disabled", "true");
    button.classList.add("busy");
    document.getElementById("send-progress").hidden = false;
  });

  // A page restored from the back/forward cache must be usable again.
  window.addEventListener("pageshow", function () {
    form.dataset.sending = "";
    document.getElementById("send-progress").hidden = true;
    form.querySelector("[type=submit]").classList.remove("busy");
    form.querySelector("[type=submit]").removeAttribute("aria-disabled");
  });
})();
