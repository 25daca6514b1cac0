// The recipient fields of the compose form: a suggestion picked in the list becomes a chip
// (a hidden input the server checks again on sending); the × of a chip removes it. Uploaded
// attachments are chips too. Adding or removing a chip asks for the draft to be saved.
(function () {
  "use strict";

  function chipsChanged(element) {
    var form = element.closest("form");
    if (form) {
      htmx.trigger(form, "chips-changed");
    }
  }

  function fieldOf(element) {
    return element.closest("fieldset.recipients");
  }

  document.addEventListener("click", function (event) {
    var suggestion = event.target.closest("[data-recipient]");
    if (suggestion && fieldOf(suggestion)) {
      var fieldset = fieldOf(suggestion);
      var field = fieldset.dataset.field;
      var token = suggestion.dataset.recipient;
      var search = fieldset.querySelector("input[type=search]");
      var chips = fieldset.querySelector(".chips");
      if (!chips.querySelector('input[value="' + token + '"]')) {
        var url = search.dataset.chipUrl + "?field=" + encodeURIComponent(field) +
          "&token=" + encodeURIComponent(token);
        htmx.ajax("GET", url, { target: chips, swap: "beforeend" });
      }
      search.value = "";
      fieldset.querySelector(".suggestions").innerHTML = "";
      search.focus();
      return;
    }
    var remove = event.target.closest("[data-remove-chip]");
    if (remove) {
      var box = remove.closest("fieldset");
      var next = box.querySelector("input[type=search], input[type=file]");
      chipsChanged(box);
      remove.closest("li").remove();
      next.focus();
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target.matches && target.matches("ul.chips")) {
      chipsChanged(target);
      if (target.id === "files") {
        document.getElementById("upload").value = "";
        document.getElementById("file-error").innerHTML = "";
      }
    }
  });

  // Sending (or saving) while the draft is being saved waits for that save to end, so the form
  // carries the draft's id and its files are not claimed by two messages.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var status = form.querySelector("#draft-status");
    if (!status || !status.classList.contains("htmx-request")) {
      return;
    }
    event.preventDefault();
    var submitter = event.submitter;
    status.addEventListener("htmx:afterRequest", function () {
      form.requestSubmit(submitter);
    }, { once: true });
  });

  // Enter in a search box picks nothing and must not send the message; Enter in the name of a
  // list being saved saves the list, never the message.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") {
      return;
    }
    if (event.target.matches("fieldset.recipients input[type=search]")) {
      event.preventDefault();
    } else if (event.target.matches("details.save-list input")) {
      event.preventDefault();
      event.target.closest("details").querySelector("button").click();
    }
  });
})();
