// Canal: small progressive enhancements. The site works without JavaScript; nothing here is inline (CSP).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    // Selects that submit their form when changed (language switch, filters).
    document.querySelectorAll("select.auto-submit").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form) { select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit(); }
      });
    });

    // Forms that ask before a destructive action.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });

    // Close open menus when clicking elsewhere or pressing Escape.
    function closeMenus(except) {
      document.querySelectorAll("details.menu[open]").forEach(function (menu) {
        if (menu !== except) { menu.removeAttribute("open"); }
      });
    }
    document.addEventListener("click", function (event) {
      closeMenus(event.target.closest("details.menu"));
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { closeMenus(null); }
    });

    // Buttons that open a popover (the Menu button of the top bar): the popover opens and closes without script;
    // here the button says whether it is open, and the main navigation's panel closes when the window grows wide
    // enough for its links to sit in the bar.
    document.querySelectorAll("button[popovertarget]").forEach(function (button) {
      var panel = document.getElementById(button.getAttribute("popovertarget"));
      if (!panel || typeof panel.hidePopover !== "function") { return; }
      button.setAttribute("aria-expanded", String(panel.matches(":popover-open")));
      panel.addEventListener("toggle", function (event) {
        button.setAttribute("aria-expanded", String(event.newState === "open"));
      });
    });
    var navPanel = document.getElementById("main-nav-panel");
    if (navPanel && typeof navPanel.hidePopover === "function" && window.matchMedia) {
      window.matchMedia("(max-width: 860px)").addEventListener("change", function (query) {
        if (!query.matches && navPanel.matches(":popover-open")) { navPanel.hidePopover(); }
      });
    }

    // Show the chosen file's name and size next to file inputs.
    document.querySelectorAll("input[type=file]").forEach(function (input) {
      input.addEventListener("change", function () {
        var note = input.parentElement.querySelector(".file-chosen");
        if (!note) {
          note = document.createElement("p");
          note.className = "file-chosen";
          input.insertAdjacentElement("afterend", note);
        }
        var file = input.files && input.files[0];
        note.textContent = file ? file.name + " · " + (file.size / 1048576).toFixed(1) + " MB" : "";
      });
    });

    // Disable submit buttons after the first submit to avoid double posts.
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        // htmx forms stay on the page: their buttons must stay usable for the next request.
        if (event.defaultPrevented || form.hasAttribute("hx-get") || form.hasAttribute("hx-post")) { return; }
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          window.setTimeout(function () { button.disabled = true; }, 0);
        });
      });
    });
  });
})();
