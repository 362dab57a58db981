/* spanfast report: renders the cards from the embedded JSON, a page at a time.
   Data is only ever put into the page with textContent, never as HTML. */
(function () {
  "use strict";
  var PAGE = 50, PRINT_LIMIT = 5000, BAR_TOP = 1.6, BAR_GAP = 1.45;
  var data = JSON.parse(document.getElementById("spanfast-data").textContent);
  var cards = data.cards;  // [sentence, score, tokens, given, predicted, flagged, span issues]
  var TOKEN_KIND = "token label";
  var list = document.getElementById("cards");
  var more = document.getElementById("more");
  var count = document.getElementById("count");
  var classFilter = document.getElementById("class-filter");
  var kindFilter = document.getElementById("kind-filter");
  var search = document.getElementById("search");
  var visible = [], rendered = 0, focused = -1, lowered = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function fmt(score) { return Number(score).toFixed(4); }

  function slots(spans) {
    // Stack overlapping spans as displaCy does: each span takes the lowest free row.
    var ends = [], order = spans.map(function (s, i) { return i; });
    order.sort(function (a, b) { return spans[a][0] - spans[b][0] || a - b; });
    var slotOf = new Array(spans.length);
    order.forEach(function (i) {
      var row = 0;
      while (row < ends.length && ends[row] > spans[i][0]) row++;
      ends[row] = spans[i][1];
      slotOf[i] = row;
    });
    return {slotOf: slotOf, rows: ends.length};
  }

  function renderTokens(card) {
    var tokens = card[2], flaggedAt = {};
    card[5].forEach(function (f) { flaggedAt[f[0]] = true; });
    card[6].forEach(function (f) { for (var t = f[0]; t < f[1]; t++) flaggedAt[t] = true; });
    var spans = card[3].map(function (s) { return [s[0], s[1], s[2], "given"]; })
      .concat(card[4].map(function (s) { return [s[0], s[1], s[2], "pred"]; }));
    var stack = slots(spans);
    var box = el("div", "tokens");
    tokens.forEach(function (text, t) {
      var tok = el("span", "tok");
      var txt = el("span", flaggedAt[t] ? "txt flag" : "txt", text);
      if (flaggedAt[t]) txt.title = "flagged: token " + t;
      tok.appendChild(txt);
      tok.style.paddingBottom = (stack.rows * BAR_GAP + 0.2) + "em";
      spans.forEach(function (s, i) {
        if (t < s[0] || t >= s[1]) return;
        var bar = el("span", "span-bar " + s[3] + (t === s[1] - 1 ? " end" : ""));
        bar.style.top = (BAR_TOP + stack.slotOf[i] * BAR_GAP) + "em";
        if (t === s[0]) {
          bar.appendChild(el("span", "span-label", (s[3] === "given" ? "given: " : "pred: ") + s[2]));
        }
        tok.appendChild(bar);
      });
      box.appendChild(tok);
      box.appendChild(document.createTextNode(" "));
    });
    return box;
  }

  function renderCard(card, rank) {
    var article = el("article", "card");
    article.tabIndex = -1;
    article.dataset.rank = String(rank);
    article.dataset.sentence = String(card[0]);
    var header = el("header");
    header.appendChild(el("b", null, "#" + (rank + 1)));
    var n = card[5].length + card[6].length;
    header.appendChild(document.createTextNode(
      " sentence " + card[0] + " \u00b7 score " + fmt(card[1]) + " \u00b7 " +
      n + (n === 1 ? " issue" : " issues")));
    article.appendChild(header);
    article.appendChild(renderTokens(card));
    if (card[5].length) {
      article.appendChild(issueTable(["token", "text", "given", "predicted", "score"], card[5].map(function (f) {
        return [[f[0], "num"], [card[2][f[0]]], [f[2]], [f[3]], [fmt(f[1]), "num"]];
      })));
    }
    if (card[6].length) {
      article.appendChild(issueTable(["tokens", "span", "kind", "given", "predicted", "score"], card[6].map(function (f) {
        return [[f[0] + "\u2013" + f[1], "num"], [card[2].slice(f[0], f[1]).join(" ")], [f[2], "kind"],
                [f[3] || "\u2014"], [f[4] || "\u2014"], [fmt(f[5]), "num"]];
      })));
    }
    return article;
  }

  function issueTable(heads, rows) {
    var table = el("table", "issues"), head = el("tr");
    heads.forEach(function (h) { head.appendChild(el("th", null, h)); });
    table.appendChild(head);
    rows.forEach(function (cells) {
      var row = el("tr");
      cells.forEach(function (cell) { row.appendChild(el("td", cell[1] || null, cell[0])); });
      table.appendChild(row);
    });
    return table;
  }

  function renderMore(limit) {
    var end = Math.min(rendered + (limit || PAGE), visible.length);
    var fragment = document.createDocumentFragment();
    for (var k = rendered; k < end; k++) fragment.appendChild(renderCard(cards[visible[k]], k));
    list.appendChild(fragment);
    rendered = end;
    more.hidden = rendered >= visible.length;
    more.textContent = rendered < visible.length ? "Showing " + rendered + " of " + visible.length + " \u2014 scroll for more" : "";
  }

  function matches(card, cls, kind, query) {
    if (cls) {
      var hit = card[5].some(function (f) { return f[2] === cls || f[3] === cls; }) ||
        card[6].some(function (f) { return f[3] === cls || f[4] === cls; });
      if (!hit) return false;
    }
    if (kind) {
      var ofKind = kind === TOKEN_KIND ? card[5].length > 0 : card[6].some(function (f) { return f[2] === kind; });
      if (!ofKind) return false;
    }
    if (query) {
      if (String(card[0]) === query) return true;
      return lowered[card[0]].indexOf(query) >= 0;
    }
    return true;
  }

  function apply() {
    var cls = classFilter.value, kind = kindFilter.value, query = search.value.trim().toLowerCase();
    if (query && lowered === null) {
      lowered = {};
      cards.forEach(function (c) { lowered[c[0]] = "\u0000" + c[2].join("\u0000").toLowerCase() + "\u0000"; });
    }
    visible = [];
    for (var i = 0; i < cards.length; i++) if (matches(cards[i], cls, kind, query)) visible.push(i);
    list.textContent = "";
    rendered = 0;
    focused = -1;
    renderMore();
    count.textContent = visible.length + " of " + cards.length + " sentences";
    if (!visible.length) list.appendChild(el("p", "empty", "No flagged sentence matches."));
  }

  function focusCard(index) {
    if (!visible.length) return;
    index = Math.max(0, Math.min(index, visible.length - 1));
    while (index >= rendered) renderMore();
    var previous = list.querySelector(".card.focused");
    if (previous) previous.classList.remove("focused");
    var card = list.children[index];
    card.classList.add("focused");
    card.focus({preventScroll: true});
    card.scrollIntoView({block: "nearest"});
    focused = index;
  }

  function addOptions(select, names) {
    names.forEach(function (name) {
      var option = el("option", null, name);
      option.value = name;
      select.appendChild(option);
    });
  }
  addOptions(classFilter, data.classes);
  addOptions(kindFilter, data.kinds);
  var timer = null;
  search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 150); });
  search.addEventListener("keydown", function (event) { if (event.key === "Enter") { clearTimeout(timer); apply(); } });
  classFilter.addEventListener("change", apply);
  kindFilter.addEventListener("change", apply);
  document.addEventListener("keydown", function (event) {
    var tag = event.target && event.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "j") { focusCard(focused + 1); event.preventDefault(); }
    else if (event.key === "k") { focusCard(focused - 1); event.preventDefault(); }
    else if (event.key === "/") { search.focus(); event.preventDefault(); }
  });
  if ("IntersectionObserver" in window) {
    new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; }) && rendered < visible.length) renderMore();
    }, {rootMargin: "800px"}).observe(more);
  }
  more.addEventListener("click", function () { renderMore(); });
  window.addEventListener("beforeprint", function () { renderMore(PRINT_LIMIT); });
  apply();
  document.documentElement.dataset.ready = "true";
  // When the page became usable, for tools/report_bench.py (time since navigation start).
  if (window.performance && performance.mark) performance.mark("spanfast-ready");
})();
