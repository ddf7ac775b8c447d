/* The tables of the text form (forms.TableEditor; no inline script: CSP). Without this file
   the form still works: 添加一行 and 删除 are submit buttons the server answers with the form
   again, a row more or less, nothing saved. With it:
   - [data-add-row] copies the table's <template data-row-template>, its "__n__" made the
     table's next row number, and moves the focus into the new row;
   - [data-remove-row] removes its row and moves the focus to the next row (or the add button);
   - select[data-follows="ID"] offers only the options whose data-parent is the value of the
     select ID (二级指标 under its 一级指标); the others are kept to come back;
   - [data-breakdown-total] shows the breakdown's total as it is typed, and whether it
     differs from the amount. */
(function () {
  "use strict";

  var FULL_WIDTH = /[\uff10-\uff19\uff0c\uff0e\u3002]/g;

  function toCents(typed) {
    // As the server reads a typed amount: full-width digits, commas, 元 or 万元.
    var text = String(typed || "").replace(FULL_WIDTH, function (c) {
      if (c === "\uff0c") { return ","; }
      if (c === "\uff0e" || c === "\u3002") { return "."; }
      return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
    }).replace(/\s/g, "");
    var match = /^([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]+)?(万元|万|元)?$/.exec(text);
    if (!match) { return null; }
    var parts = (match[1].replace(/,/g, "") + (match[2] || "")).split(".");
    var fraction = ((parts[1] || "") + "000000").slice(0, 6);
    var wan = match[3] === "万" || match[3] === "万元";
    // in units of 0.0001 yuan: exact enough for 万 with four decimals
    var units = parseInt(parts[0], 10) * 10000 + parseInt(fraction.slice(0, 4), 10);
    if (wan) { units *= 10000; }
    return Math.round(units / 100);
  }

  function formatCents(total, format) {
    var whole = Math.floor(total / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var fraction = ("0" + (total % 100)).slice(-2);
    return (format || "%s").replace("%s", whole + "." + fraction);
  }

  function rowsOf(editor) {
    return Array.prototype.slice.call(editor.querySelectorAll("tbody[data-rows] > tr[data-row]"));
  }

  function renumber(editor) {
    rowsOf(editor).forEach(function (row, i) {
      row.querySelectorAll("[data-row-number]").forEach(function (el) { el.textContent = String(i + 1); });
    });
  }

  function follow(select) {
    var parent = document.getElementById(select.getAttribute("data-follows"));
    if (!parent) { return; }
    if (!select._allGroups) {
      select._allGroups = Array.prototype.slice.call(select.querySelectorAll("optgroup"));
    }
    var value = select.value;
    select._allGroups.forEach(function (group) {
      var fits = !parent.value || group.getAttribute("data-parent") === parent.value;
      if (fits && !group.parentNode) { select.appendChild(group); }
      if (!fits && group.parentNode) { group.parentNode.removeChild(group); }
    });
    // Keep the order of the groups as written.
    select._allGroups.forEach(function (group) { if (group.parentNode) { select.appendChild(group); } });
    var still = Array.prototype.some.call(select.options, function (o) { return o.value === value; });
    select.value = still ? value : "";
  }

  function setUp(scope) {
    scope.querySelectorAll("select[data-follows]").forEach(follow);
  }

  function total(form) {
    var shown = form.querySelector("[data-breakdown-total]");
    var editor = form.querySelector("#id_breakdown");
    if (!shown || !editor) { return; }
    var cents = 0;
    var rows = 0;
    rowsOf(editor).forEach(function (row) {
      var cell = row.querySelector("[data-amount-cell]");
      var filled = Array.prototype.some.call(row.querySelectorAll("input, select, textarea"), function (c) {
        return c.value.trim() !== "";
      });
      if (!filled) { return; }
      rows += 1;
      var value = cell ? toCents(cell.value) : null;
      if (value !== null) { cents += value; }
    });
    shown.hidden = rows === 0;
    shown.querySelector("[data-total]").textContent = formatCents(cents, shown.getAttribute("data-amount-format"));
    var amount = form.querySelector("#id_amount");
    var typed = amount ? toCents(amount.value) : null;
    var differs = rows > 0 && typed !== null && typed !== cents;
    shown.querySelector("[data-differs]").hidden = !differs;
    shown.classList.toggle("differs", differs);
  }

  function dirty(form) {
    if (form.hasAttribute("data-warn-unsaved")) { form.setAttribute("data-dirty", "1"); }
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    var remove = event.target.closest("[data-remove-row]");
    var editor = (add || remove) && (add || remove).closest("[data-table-editor]");
    if (!editor) { return; }
    event.preventDefault();
    var form = editor.closest("form");
    if (add) {
      var template = editor.querySelector("template[data-row-template]");
      var next = parseInt(editor.getAttribute("data-next-index"), 10) || 0;
      editor.setAttribute("data-next-index", String(next + 1));
      var body = editor.querySelector("tbody[data-rows]");
      body.insertAdjacentHTML("beforeend", template.innerHTML.split("__n__").join(String(next)));
      var row = body.lastElementChild;
      setUp(row);
      renumber(editor);
      var first = row.querySelector("input, select, textarea");
      if (first) { first.focus(); }
    } else {
      var gone = remove.closest("tr[data-row]");
      var after = gone.nextElementSibling;
      gone.parentNode.removeChild(gone);
      renumber(editor);
      var focus = after && after.querySelector("input, select, textarea");
      (focus || editor.querySelector("[data-add-row]")).focus();
    }
    if (form) { dirty(form); total(form); }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.id) { return; }
    document.querySelectorAll('select[data-follows="' + target.id + '"]').forEach(follow);
  });

  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("form");
    if (form && (event.target.id === "id_amount" || event.target.closest("#id_breakdown"))) { total(form); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    setUp(document);
    document.querySelectorAll("form").forEach(total);
  });
})();
