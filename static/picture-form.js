// Forms with a face picture (enrol, search): check the picture in the browser before
// it is uploaded, preview it, take it by drag and drop or from a camera, and show
// progress while the form is sent. The rules come from the page (data-rules,
// rendered from the server's one definition), never from this file. Without
// JavaScript the plain file field still works; the server checks everything again.
(function () {
  "use strict";
  var input = document.getElementById("faceImage");
  var form = input && input.form;
  if (!form) { return; }
  var rules = JSON.parse(input.getAttribute("data-rules"));
  // The page's words in the reader's language, from the server (templates/_page_words.html).
  var words = JSON.parse(document.getElementById("page-words").getAttribute("data-words"));
  var errorBox = document.getElementById("faceImage-error");
  var preview = document.getElementById("picture-preview");
  var previewImg = document.getElementById("picture-preview-img");
  var caption = document.getElementById("picture-preview-caption");
  var keptPicture = form.querySelector("input[name=keptPicture]");
  var byId = function (id) { return document.getElementById(id); };

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

  function describe(file, width, height) {
    var size = file.size >= 1000000 ? (file.size / 1000000).toFixed(1) + " MB" : Math.round(file.size / 1000) + " KB";
    return file.name + (width ? ": " + width + " × " + height + " px, " : ": ") + size;
  }

  // The vendor's exact words, then what they mean in the reader's language.
  function refusal(name) {
    var explanation = (rules.explanations || {})[name];
    return rules.messages[name] + (explanation ? " " + explanation : "");
  }

  function checkFile(file) {
    var name = file.name.toLowerCase();
    var typeOk = rules.mimeTypes.indexOf(file.type) >= 0 ||
      rules.extensions.some(function (ext) { return name.endsWith(ext); });
    if (!typeOk) { return Promise.resolve(refusal("notImage")); }
    if (file.size >= rules.maxBytes) { return Promise.resolve(refusal("tooLarge")); }
    return new Promise(function (resolve) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var w = img.naturalWidth, h = img.naturalHeight;
        var ok = Math.min(w, h) >= rules.minSide && (!rules.maxSide || Math.max(w, h) <= rules.maxSide);
        previewImg.src = url;
        caption.textContent = describe(file, w, h);
        preview.hidden = false;
        resolve(ok ? "" : refusal("resolution"));
      };
      img.onerror = function () {
        URL.revokeObjectURL(url);
        if (rules.prepared && /\.(heic|heif)$/.test(name)) {  // browsers cannot show HEIC; the server can read it
          preview.hidden = true;
          caption.textContent = describe(file);
          resolve("");
        } else {
          resolve(refusal("notImage"));
        }
      };
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
    });
  });

  function attach(file) {
    var transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // Drag and drop onto the picture's area.
  var zone = byId("drop-zone");
  byId("drop-hint").hidden = false;
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function () { zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer.files.length) { attach(event.dataTransfer.files[0]); }
  });

  // A still from the camera, attached like a chosen file.
  var camera = byId("camera"), video = byId("camera-video"), cameraError = byId("camera-error");
  var cameraOpen = byId("camera-open"), cameraTake = byId("camera-take");
  var stream = null;
  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
    camera.hidden = true;
    cameraTake.disabled = true;
  }
  // Why the browser gave no camera, in plain words (the names are the browsers' DOMException names).
  function cameraProblem(error) {
    var name = (error && error.name) || "";
    if (["NotFoundError", "DevicesNotFoundError", "OverconstrainedError"].indexOf(name) >= 0) {
      cameraOpen.hidden = true;  // nothing to try again with on this device
      return words.cameraNotFound;
    }
    if (["NotAllowedError", "PermissionDeniedError", "SecurityError"].indexOf(name) >= 0) { return words.cameraDenied; }
    if (["NotReadableError", "TrackStartError", "AbortError"].indexOf(name) >= 0) { return words.cameraBusy; }
    return words.cameraFailed.replace("{error}", name || "?");
  }
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    cameraOpen.hidden = false;
    cameraOpen.addEventListener("click", function () {
      cameraError.hidden = true;
      navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 960 } } })
        .then(function (media) {
          stream = media;
          video.srcObject = media;
          camera.hidden = false;
          cameraTake.disabled = false;
          cameraTake.focus();
        })
        .catch(function (error) {
          stopCamera();  // no black box, no button that takes nothing: the file field is the way
          cameraError.textContent = cameraProblem(error);
          cameraError.hidden = false;
        });
    });
    byId("camera-close").addEventListener("click", stopCamera);
    cameraTake.addEventListener("click", function () {
      if (!stream || !video.videoWidth) { return; }
      var canvas = document.createElement("canvas");
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      canvas.toBlob(function (blob) {
        attach(new File([blob], "camera.jpg", { type: "image/jpeg" }));
        stopCamera();
      }, "image/jpeg", 0.92);
    });
  }

  // A question the page stopped to ask (several faces, a likely duplicate) is read out and focused first.
  var question = document.querySelector("[data-focus-on-load]");
  if (question) { question.focus(); }

  form.addEventListener("submit", function (event) {
    if (input.validationMessage) {
      event.preventDefault();
      input.focus();
      return;
    }
    var button = event.submitter || form.querySelector("[type=submit]");
    if (form.dataset.sending === "yes") { event.preventDefault(); return; }  // a double click
    form.dataset.sending = "yes";
    button.setAttribute("aria-disabled", "true");
    button.classList.add("busy");
    byId("send-progress").hidden = false;
  });

  // A page restored from the back/forward cache must be usable again.
  window.addEventListener("pageshow", function () {
    form.dataset.sending = "";
    byId("send-progress").hidden = true;
    Array.prototype.forEach.call(form.querySelectorAll("[type=submit]"), function (button) {
      button.classList.remove("busy");
      button.removeAttribute("aria-disabled");
    });
  });
})();
