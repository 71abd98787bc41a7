// Batch enrolment pages. The upload form shows how much of a large ZIP has been sent and
// then that the server is reading it; a job's page follows the job live (polling its
// progress as JSON) while its photos are checked and while it runs. Without JavaScript both pages still work: the
// form posts normally and the job page shows the figures of the moment it was loaded.
(function () {
  "use strict";
  var byId = function (id) { return document.getElementById(id); };
  // The page's words in the reader's language, from the server (templates/_page_words.html).
  var words = JSON.parse(byId("page-words").getAttribute("data-words"));
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (mark, name) { return name in values ? values[name] : mark; });
  }

  function followUpload(form) {
    var status = byId("upload-progress");
    var text = byId("upload-progress-text");
    var button = byId("submit");
    form.addEventListener("submit", function (event) {
      // The face set is asked for before anything is sent: a ZIP of a gigabyte is not uploaded for nothing.
      var faceSet = byId("faceSetId");
      if (faceSet && !faceSet.value.trim()) {
        event.preventDefault();
        var error = byId("faceSetId-error");
        error.textContent = words.chooseFaceSet;
        error.hidden = false;
        faceSet.setAttribute("aria-invalid", "true");
        faceSet.focus();
        return;
      }
      if (!window.FormData || !window.XMLHttpRequest) { return; }
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.action || window.location.href);
      request.upload.onprogress = function (e) {
        if (e.lengthComputable) {
          var percent = Math.round(100 * e.loaded / e.total);
          text.textContent = percent < 100 ? fill(words.uploadingPercent, {percent: percent}) : words.reading;
        }
      };
      request.upload.onload = function () { text.textContent = words.reading; };
      request.onload = function () {
        // The server answered with a page (the job, or the form with its problems): show it.
        window.history.replaceState(null, "", request.responseURL || window.location.href);
        document.open();
        document.write(request.responseText);
        document.close();
      };
      request.onerror = function () {
        status.hidden = true;
        button.disabled = false;
        text.textContent = "";
        window.alert(words.interrupted);
      };
      status.hidden = false;
      button.disabled = true;
      text.textContent = words.uploading;
      request.send(new FormData(form));
    });
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return "—"; }
    if (seconds < 60) { return fill(words.seconds, {count: seconds}); }
    var minutes = Math.round(seconds / 60);
    return minutes < 60 ? fill(words.minutes, {count: minutes})
      : fill(words.hours, {hours: Math.floor(minutes / 60), minutes: minutes % 60});
  }

  function followJob(section) {
    var url = section.getAttribute("data-url");
    var firstState = section.getAttribute("data-state");
    // Which states the page follows live, and in which it shows the photos being checked: the
    // server's own groups (facesite/batch/states.py), sent with the page.
    var states = JSON.parse(section.getAttribute("data-states"));
    var live = states.live;
    var reading = states.reading;
    function show(p) {
      var note = byId("job-note");
      note.textContent = p.note || "";
      note.hidden = !p.note;
      if (reading.indexOf(p.state) >= 0) {
        byId("check-bar").value = p.percent;
        byId("check-bar").textContent = p.percent + " %";
        byId("count-checked").textContent = p.checked;
        return;
      }
      byId("job-state").textContent = words.states[p.state] || p.state;
      byId("job-bar").value = p.percent;
      byId("job-bar").textContent = p.percent + " %";
      byId("job-percent").textContent = p.percent + " %";
      ["done", "failed", "unknown", "left", "skipped"].forEach(function (name) {
        byId("count-" + name).textContent = p[name];
      });
      byId("rate").textContent = p.rate_per_second
        ? fill(words.rate, {rate: p.rate_per_second.toLocaleString(document.documentElement.lang,
                                                                   {minimumFractionDigits: 1, maximumFractionDigits: 1})})
        : "—";
      byId("time-left").textContent = p.waiting_seconds ? fill(words.waiting, {seconds: p.waiting_seconds})
        : duration(p.seconds_left);
    }
    var shownFinished = null;
    var lastTable = 0;
    function refreshRows(p) {
      // The rows table is the server's own HTML: fetch this page again and take its table,
      // at most every 3 s and only when rows have finished since.
      var finished = p.done + p.failed + p.unknown;
      if (finished === shownFinished || Date.now() - lastTable < 3000) { return; }
      shownFinished = finished;
      lastTable = Date.now();
      fetch(window.location.href, {credentials: "same-origin"})
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("rows-table");
          var table = byId("rows-table");
          if (fresh && table) { table.replaceWith(fresh); }
        })
        .catch(function () { /* the next change tries again */ });
    }
    function poll() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (p) {
          if (reading.indexOf(firstState) >= 0 && reading.indexOf(p.state) < 0) {
            window.location.reload();  // checked: the review of the rows is ready
            return;
          }
          show(p);
          refreshRows(p);
          if (live.indexOf(p.state) >= 0) {
            window.setTimeout(poll, 1000);
          } else if (p.state !== firstState) {
            window.location.reload();  // finished or paused: the buttons and rows change
          }
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    if (live.indexOf(firstState) >= 0) { poll(); }
  }

  var form = byId("batch-form");
  if (form) { followUpload(form); }
  var section = byId("job-progress");
  if (section) { followJob(section); }
})();
