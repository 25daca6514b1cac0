// The recipient fields of the compose form: a suggestion picked in the list becomes a chip
// (a hidden input the server checks again on sending); the × of a chip removes it.
(function () {
  "use strict";

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
      var search = fieldOf(remove).querySelector("input[type=search]");
      remove.closest("li").remove();
      search.focus();
    }
  });

  // Enter in a search box picks nothing and must not send the message.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches("fieldset.recipients input[type=search]")) {
      event.preventDefault();
    }
  });
})();
