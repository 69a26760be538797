/* ttsbench listening page: sort, filter and paginate the utterance blocks the page ships in a
   <template> (rendered and escaped by ttsbench; this script never builds markup from data). */
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("ttsbench-data").textContent);
  const blocks = Array.from(document.getElementById("rows").content.children);
  const table = document.getElementById("utts");
  const $ = (id) => document.getElementById(id);
  const cols = data.columns;
  const colIndex = Object.fromEntries(cols.map((c, i) => [c.key, i]));
  const text = blocks.map((b) => b.textContent.toLowerCase());
  const state = { sort: data.default_sort, over: "worst", desc: true, page: 0,
                  size: Number($("page-size").value), shown: [] };

  function visibleSystems() {
    return Array.from(document.querySelectorAll("input.sys-toggle"))
      .filter((box) => box.checked).map((box) => Number(box.dataset.s));
  }

  /* badness of one value: larger is worse (failed outputs are the worst of all) */
  function badness(col, v, status) {
    if (status === "failed") return Infinity;
    if (v === null || v === undefined) return null;
    if (col.ratio) return Math.abs(Math.log(v));
    if (col.hib === true) return -v;
    return v;
  }

  function sortKey(i, systems) {
    if (state.sort === "id") return null;
    const col = cols[colIndex[state.sort]];
    const row = data.rows[i];
    const which = state.over === "worst" ? systems : [Number(state.over)];
    let worst = null;
    for (const s of which) {
      const b = badness(col, row.v[s][colIndex[state.sort]], row.st[s]);
      if (b !== null && (worst === null || b > worst)) worst = b;
    }
    return worst;
  }

  function inRange(i, systems) {
    const key = $("range-col").value;
    if (!key) return true;
    const lo = $("range-min").value === "" ? -Infinity : Number($("range-min").value);
    const hi = $("range-max").value === "" ? Infinity : Number($("range-max").value);
    return systems.some((s) => {
      const v = data.rows[i].v[s][colIndex[key]];
      return v !== null && v >= lo && v <= hi;
    });
  }

  function refresh() {
    const systems = visibleSystems();
    const needle = $("text-filter").value.trim().toLowerCase();
    let order = blocks.map((_, i) => i).filter((i) => (!needle || text[i].includes(needle)) && inRange(i, systems));
    if (state.sort === "id") {
      if (!state.desc) order.reverse();  /* desc: the prompt set's own order */
    } else {
      const keys = new Map(order.map((i) => [i, sortKey(i, systems)]));
      order.sort((a, b) => {
        const ka = keys.get(a), kb = keys.get(b);
        if (ka === null && kb === null) return a - b;
        if (ka === null) return 1;  /* nothing to sort by: last, whatever the direction */
        if (kb === null) return -1;
        return state.desc ? kb - ka : ka - kb;
      });
    }
    state.shown = order;
    const pages = Math.max(1, Math.ceil(order.length / state.size));
    state.page = Math.min(state.page, pages - 1);
    render(order.slice(state.page * state.size, (state.page + 1) * state.size), systems);
    const first = order.length ? state.page * state.size + 1 : 0;
    $("page-info").textContent = `utterances ${first}–${Math.min(order.length, (state.page + 1) * state.size)} ` +
      `of ${order.length} (${blocks.length} in all), page ${state.page + 1} of ${pages}`;
    $("prev").disabled = state.page === 0;
    $("next").disabled = state.page >= pages - 1;
    for (const th of table.querySelectorAll("th.sortable")) {
      th.classList.toggle("sorted", th.dataset.sort === state.sort);
      th.dataset.order = th.dataset.sort === state.sort ? orderText() : "";
    }
    $("sort-dir").textContent = orderText();
  }

  function render(indices, systems) {
    for (const old of table.querySelectorAll("tbody")) old.remove();
    const keep = new Set(systems.map(String));
    for (const i of indices) {
      const block = document.importNode(blocks[i], true);
      for (const line of block.querySelectorAll("tr.line")) line.hidden = !keep.has(line.dataset.s);
      table.appendChild(block);
    }
  }

  /* what "first" means for the sorted column: state.desc is worst (or list order) first */
  function orderText() {
    if (state.sort === "id") return state.desc ? "list order" : "reverse order";
    const col = cols[colIndex[state.sort]];
    if (col.ratio) return state.desc ? "farthest from 1 first" : "closest to 1 first";
    if (col.hib === null) return state.desc ? "largest first" : "smallest first";
    return state.desc ? "worst first" : "best first";
  }

  function sortBy(key) {
    if (state.sort === key) state.desc = !state.desc;
    else { state.sort = key; state.desc = true; }
    $("sort-col").value = key;
    state.page = 0;
    refresh();
  }

  for (const th of table.querySelectorAll("th.sortable")) th.addEventListener("click", () => sortBy(th.dataset.sort));
  $("sort-col").addEventListener("change", (e) => sortBy(e.target.value));
  $("sort-over").addEventListener("change", (e) => { state.over = e.target.value; state.page = 0; refresh(); });
  $("sort-dir").addEventListener("click", () => { state.desc = !state.desc; state.page = 0; refresh(); });
  $("page-size").addEventListener("change", (e) => { state.size = Number(e.target.value); state.page = 0; refresh(); });
  $("prev").addEventListener("click", () => { state.page -= 1; refresh(); window.scrollTo(0, 0); });
  $("next").addEventListener("click", () => { state.page += 1; refresh(); window.scrollTo(0, 0); });
  for (const id of ["range-col", "range-min", "range-max", "text-filter"]) {
    $(id).addEventListener("input", () => { state.page = 0; refresh(); });
  }
  for (const box of document.querySelectorAll("input.sys-toggle")) box.addEventListener("change", refresh);
  $("sort-col").value = state.sort;
  refresh();
  document.documentElement.dataset.ready = "1";  /* for tests: the first page is rendered */
})();
