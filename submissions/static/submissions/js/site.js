/* The pages' few behaviours, from this file only (the Content-Security-Policy allows no inline
   script). Every page works without it; it adds what a person expects of a form:
   - form[data-confirm]: ask before sending, repeating what is decided (the form's
     .confirm-body, written by the server in the reader's language);
   - form[data-selection="NAME"]: the confirmation counts the ticked NAME boxes and adds up
     their data-amount; nothing ticked shows the form's [data-none-selected] and sends nothing;
   - input[data-select-all="NAME"]: ticks or clears every NAME box of its form;
   - form[data-warn-unsaved]: a warning before leaving the page with changes not saved. */
(function () {
  "use strict";

  function cents(value) {
    var parts = String(value || "0").split(".");
    var whole = parseInt(parts[0], 10) || 0;
    var frac = parseInt(((parts[1] || "") + "00").slice(0, 2), 10) || 0;
    return whole * 100 + frac;
  }

  function formatCents(total, format) {
    var whole = Math.floor(total / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var frac = ("0" + (total % 100)).slice(-2);
    return (format || "%s").replace("%s", whole + "." + frac);
  }

  function selected(form) {
    var name = form.getAttribute("data-selection");
    return Array.prototype.filter.call(
      form.querySelectorAll('input[type=checkbox][name="' + name + '"]'),
      function (box) { return box.checked; }
    );
  }

  function fill(body, form) {
    if (!form.hasAttribute("data-selection")) { return; }
    var boxes = selected(form);
    var total = boxes.reduce(function (sum, box) { return sum + cents(box.getAttribute("data-amount")); }, 0);
    body.querySelectorAll('[data-fill="count"]').forEach(function (el) { el.textContent = String(boxes.length); });
    body.querySelectorAll('[data-fill="total"]').forEach(function (el) {
      el.textContent = formatCents(total, form.getAttribute("data-amount-format"));
    });
  }

  function confirmBeforeSending(form, submitter) {
    var dialog = document.createElement("dialog");
    dialog.className = "confirm";
    dialog.setAttribute("aria-modal", "true");
    var source = form.querySelector(".confirm-body");
    var body = source ? source.cloneNode(true) : document.createElement("div");
    body.removeAttribute("id");
    fill(body, form);
    dialog.appendChild(body);
    var buttons = document.createElement("div");
    buttons.className = "buttons";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn-outline-secondary";
    cancel.textContent = form.getAttribute("data-confirm-cancel") || "Cancel";
    var ok = document.createElement("button");
    ok.type = "button";
    ok.className = "btn " + (form.getAttribute("data-confirm-class") || "btn-primary");
    ok.textContent = form.getAttribute("data-confirm") || "OK";
    buttons.appendChild(cancel);
    buttons.appendChild(ok);
    dialog.appendChild(buttons);
    document.body.appendChild(dialog);
    cancel.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () { dialog.remove(); });
    ok.addEventListener("click", function () {
      form.setAttribute("data-confirmed", "1");
      dialog.close();
      if (submitter) { form.requestSubmit(submitter); } else { form.requestSubmit(); }
    });
    dialog.showModal();
    ok.focus();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-selection")) {
      var none = form.querySelector("[data-none-selected]");
      if (selected(form).length === 0) {
        event.preventDefault();
        if (none) { none.hidden = false; none.focus(); }
        return;
      }
      if (none) { none.hidden = true; }
    }
    if (form.hasAttribute("data-confirm") && form.getAttribute("data-confirmed") !== "1") {
      event.preventDefault();
      confirmBeforeSending(form, event.submitter);
      return;
    }
    form.removeAttribute("data-confirmed");
    if (form.hasAttribute("data-warn-unsaved")) { form.removeAttribute("data-dirty"); }
  });

  document.addEventListener("change", function (event) {
    var all = event.target.closest("input[data-select-all]");
    if (!all) { return; }
    var name = all.getAttribute("data-select-all");
    all.form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });

  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-warn-unsaved")) { form.setAttribute("data-dirty", "1"); }
  });

  window.addEventListener("beforeunload", function (event) {
    if (document.querySelector("form[data-warn-unsaved][data-dirty]")) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
