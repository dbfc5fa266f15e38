// whynet lab — the page. Plain JavaScript, no build step; charts by uPlot (static/vendor/).
//
// The server owns the network: this page sends the configuration (POST /api/sessions, then
// PUT …/config on every change), the transport buttons (play, pause, step, reset), hand edits of
// one weight (POST …/parameter), and draws the state the server streams over a WebSocket (≈10 a
// second while training). The whole configuration lives in the URL, so a copied link rebuilds
// the same run. A change the server refuses snaps the controls and the URL back.
//
// Every text the page shows comes from the "lab" catalogue (locale/<lang>/LC_MESSAGES/lab.po):
// the server renders index.html in the chosen language, serves the catalogue as JSON
// (GET /api/messages) for this script's _("…") (extracted by Babel's javascript method), and
// speaks the session's language in what it streams. The switch (한국어 / English) changes all of
// it in place, keeping the running session; the language is in the URL (lang=).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let MESSAGES = {};
  let lang = document.documentElement.lang || "en";
  // A message in the page's language (the msgid itself when the catalogue has none: English).
  const _ = (msgid) => MESSAGES[msgid] || msgid;
  // Fill named placeholders after translation: fmt(_("step {n}"), {n: 3}).
  const fmt = (text, values) => text.replace(/\{(\w+)\}/g,
    (m, k) => (Object.prototype.hasOwnProperty.call(values, k) ? String(values[k]) : m));
  const LRS = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
  const RATES = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];
  const DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5, 0.8];
  const LAYER_COLORS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#444"];
  const C0 = [245, 147, 34], C1 = [8, 119, 189], WHITE = [255, 255, 255];
  // URL key ↔ config field, for the simple fields (features and layers are special).
  const URL_KEYS = {dataset: "dataset", noise: "noise", points: "n_points", ratio: "train_ratio",
    init: "init", reg: "regularizer", rate: "reg_rate", dropout: "dropout", opt: "optimizer",
    lr: "lr", batch: "batch_size", seed: "seed"};

  let options = null, presets = [], config = null, session = null, socket = null;
  let accepted = null;  // the configuration the server last accepted (a refused change goes back)
  let playing = false, speed = "epoch", presetId = "", lastRun = null, lastShape = "";
  let lastState = null, hover = null, leaving = false, retrying = false;
  const view = {test: true, discrete: false};
  const clone = (x) => JSON.parse(JSON.stringify(x));
  let history = {columns: [], data: {}};
  let charts = {}, satLayers = [];

  // -- talking to the server ------------------------------------------------------------------
  async function api(method, path, body) {
    // The server answers (and refuses) in the page's language.
    const init = {method, headers: {"Accept-Language": lang}};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const r = await fetch(path, init);
    const text = await r.text();
    const data = text ? JSON.parse(text) : null;
    if (!r.ok) {
      const err = new Error((data && data.message) || `${r.status} ${r.statusText}`);
      err.status = r.status;
      err.fields = (data && data.fields) || [];
      throw err;
    }
    return data;
  }

  function showStatus(text, kind) {
    const el = $("status");
    el.textContent = text;
    el.className = "status" + (kind ? " " + kind : "");
    el.hidden = !text;
  }

  // -- the URL --------------------------------------------------------------------------------
  function toQuery() {
    const q = new URLSearchParams();
    for (const [key, field] of Object.entries(URL_KEYS)) q.set(key, String(config[field]));
    q.set("features", config.features.join(","));
    q.set("layers", config.layers.map((l) => `${l.units}:${l.activation}`).join(",") || "none");
    q.set("bn", config.batchnorm ? "1" : "0");
    if (config.standardize) q.set("std", "1");
    q.set("speed", String(speed));
    q.set("lang", lang);
    if (!view.test) q.set("showtest", "0");
    if (view.discrete) q.set("discrete", "1");
    if (presetId) q.set("preset", presetId);
    return q.toString();
  }

  function fromQuery(q, defaults) {
    const cfg = JSON.parse(JSON.stringify(defaults));
    for (const [key, field] of Object.entries(URL_KEYS)) {
      if (!q.has(key)) continue;
      const raw = q.get(key);
      // Numbers go to the server as numbers, names as strings; the server validates both.
      cfg[field] = typeof defaults[field] === "number" && raw.trim() !== "" && !isNaN(Number(raw))
        ? Number(raw) : raw;
    }
    if (q.has("features")) cfg.features = q.get("features").split(",").filter(Boolean);
    if (q.has("layers")) {
      const spec = q.get("layers");
      cfg.layers = spec === "none" ? [] : spec.split(",").map((s) => {
        const [units, activation] = s.split(":");
        return {units: Number(units), activation: activation || "tanh"};
      });
    }
    if (q.has("bn")) cfg.batchnorm = q.get("bn") === "1";
    if (q.has("std")) cfg.standardize = q.get("std") === "1";
    return cfg;
  }

  function writeURL() {
    history_replace("?" + toQuery());
    // Links to the report open in a new tab and carry the lab's state for "Back to the lab".
    const back = encodeURIComponent(location.search.slice(1));
    for (const a of document.querySelectorAll("a[data-report]")) {
      a.href = `/report?lang=${lang}&back=${back}#${a.dataset.report}`;
    }
  }

  function history_replace(search) {
    window.history.replaceState(null, "", location.pathname + search);
  }

  // -- controls -------------------------------------------------------------------------------
  function fillSelect(el, values, label) {
    el.innerHTML = "";
    for (const v of values) {
      const o = document.createElement("option");
      o.value = String(v);
      o.textContent = label ? label(v) : String(v);
      el.appendChild(o);
    }
  }

  // The menus' texts (again after a language switch; the chosen values stay).
  function labelControls() {
    fillSelect($("dataset"), options.datasets, (v) => ({disc: _("disc in a ring (Playground's circle)"),
      plane: _("plane (regression)"), multigauss: _("multi-gauss (regression)")}[v] || v));
    fillSelect($("init"), options.inits, (v) => ({default: _("default"),
      small: _("small: N(0, 0.01²)"), zeros: _("zeros")}[v] || v));
    fillSelect($("optimizer"), options.optimizers, (v) => ({momentum: _("SGD + momentum 0.9"),
      nesterov: _("SGD + Nesterov 0.9"), sgd: "SGD", adam: "Adam", rmsprop: "RMSProp",
      adagrad: "AdaGrad"}[v] || v));
    fillSelect($("regularizer"), options.regularizers, (v) => ({none: _("none"), l1: "L1", l2: "L2"}[v]));
    fillSelect($("activation-all"), ["", ...options.activations], (v) => v || _("— set all layers —"));
    const preset = $("preset");
    preset.querySelectorAll("option[value]:not([value=''])").forEach((o) => o.remove());
    for (const p of presets) {
      const o = document.createElement("option");
      o.value = p.id;
      o.textContent = `${p.title} (${p.questions.join(", ")})`;
      preset.appendChild(o);
    }
  }

  function buildControls() {
    labelControls();
    fillSelect($("lr"), LRS);
    fillSelect($("reg_rate"), RATES);
    fillSelect($("dropout"), DROPOUTS);
    $("n_points").max = options.limits.max_points;
    $("batch_size").max = Math.min(64, options.limits.max_batch);
    const feats = $("features");
    for (const f of options.features) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      chip.dataset.feature = f;
      chip.id = "feature-" + f;
      chip.textContent = options.feature_labels[f] || f;
      chip.addEventListener("click", () => {
        const on = config.features.includes(f);
        if (on && config.features.length === 1) return showStatus(_("Keep at least one input feature."), "info");
        config.features = on ? config.features.filter((x) => x !== f)
          : options.features.filter((x) => x === f || config.features.includes(x));
        changed();
      });
      feats.appendChild(chip);
    }
    const preset = $("preset");

    for (const id of ["dataset", "init", "optimizer", "regularizer"]) {
      $(id).addEventListener("change", (e) => { config[id] = e.target.value; changed(); });
    }
    for (const id of ["lr", "reg_rate", "dropout"]) {
      $(id).addEventListener("change", (e) => { config[id] = Number(e.target.value); changed(); });
    }
    for (const id of ["noise", "n_points", "train_ratio", "batch_size"]) {
      $(id).addEventListener("input", (e) => { $(id + "-out").textContent = e.target.value; });
      $(id).addEventListener("change", (e) => { config[id] = Number(e.target.value); changed(); });
    }
    $("seed").addEventListener("change", (e) => { config.seed = Number(e.target.value); changed(); });
    $("reseed").addEventListener("click", () => {
      config.seed = crypto.getRandomValues(new Uint32Array(1))[0] % 100000;
      changed();
    });
    $("batchnorm").addEventListener("change", (e) => { config.batchnorm = e.target.checked; changed(); });
    $("standardize").addEventListener("change", (e) => { config.standardize = e.target.checked; changed(); });
    $("activation-all").addEventListener("change", (e) => {
      const act = e.target.value;
      e.target.value = "";
      if (!act || !config.layers.length) return;
      config.layers = config.layers.map((l) => ({...l, activation: act}));
      changed();
    });
    $("show-test").addEventListener("change", (e) => { view.test = e.target.checked; writeURL(); redraw(); });
    $("discrete").addEventListener("change", (e) => { view.discrete = e.target.checked; writeURL(); redraw(); });
    $("param-form").addEventListener("submit", (e) => { e.preventDefault(); submitParam(); });
    $("param-cancel").addEventListener("click", closeParam);
    $("param-value").addEventListener("keydown", (e) => { if (e.key === "Escape") closeParam(); });
    window.addEventListener("resize", placeLines);
    $("add-layer").addEventListener("click", () => {
      if (config.layers.length >= options.limits.max_layers) return;
      const last = config.layers[config.layers.length - 1];
      config.layers.push({units: last ? last.units : 4, activation: last ? last.activation : "tanh"});
      changed();
    });
    $("remove-layer").addEventListener("click", () => {
      if (!config.layers.length) return;
      config.layers.pop();
      changed();
    });
    $("play").addEventListener("click", togglePlay);
    $("step").addEventListener("click", () => control("step", {steps: 1}));
    $("reset").addEventListener("click", () => control("reset"));
    $("speed").addEventListener("change", (e) => {
      speed = e.target.value === "epoch" ? "epoch" : Number(e.target.value);
      writeURL();
      if (playing) control("play", {speed: stepsPerSecond()});
    });
    preset.addEventListener("change", (e) => loadPreset(e.target.value));
  }

  function showConfig() {
    for (const id of ["dataset", "init", "optimizer", "regularizer"]) $(id).value = config[id];
    for (const id of ["lr", "reg_rate", "dropout"]) setNumberSelect($(id), config[id]);
    for (const id of ["noise", "n_points", "train_ratio", "batch_size"]) {
      $(id).value = config[id];
      $(id + "-out").textContent = config[id];
    }
    $("seed").value = config.seed;
    $("batchnorm").checked = config.batchnorm;
    $("standardize").checked = !!config.standardize;
    for (const chip of document.querySelectorAll(".chip")) {
      chip.classList.toggle("on", config.features.includes(chip.dataset.feature));
    }
    $("speed").value = String(speed);
    $("preset").value = presetId;
    $("show-test").checked = view.test;
    $("discrete").checked = view.discrete;
    buildNet();
  }

  // "1 epoch / frame": as TensorFlow Playground, one pass over the training set per animation
  // frame (60 a second); the server trains at most that many steps a second.
  function stepsPerSecond() {
    if (speed !== "epoch") return speed;
    const nTrain = config.n_points - Math.ceil((1 - config.train_ratio) * config.n_points);
    return Math.min(100000, Math.max(1, Math.floor(nTrain / config.batch_size)) * 60);
  }

  function setNumberSelect(el, value) {
    // A value from a link may not be one of the menu's: add it, so the menu shows the truth.
    if (![...el.options].some((o) => Number(o.value) === value)) {
      const o = document.createElement("option");
      o.value = String(value);
      o.textContent = String(value);
      el.appendChild(o);
    }
    el.value = [...el.options].find((o) => Number(o.value) === value).value;
  }

  // -- the network, drawn as Playground draws it ---------------------------------------------
  // Columns: the input features, each hidden layer, the output. Every unit is a small heat map
  // of its output over the picture; a line per weight (width ∝ |w|, blue +, orange −), a small
  // square per bias. Hover a unit: its map fills the output panel. Hover a line: its weight.
  // Click a line or a bias square: edit it.
  const SVG = "http://www.w3.org/2000/svg";
  let lines = [], biases = [];

  function unitName(col) {
    if (col === 0) return _("input");
    return col === config.layers.length + 1 ? _("output") : fmt(_("hidden {k}"), {k: col});
  }

  function buildNet() {
    const shape = JSON.stringify([config.layers, config.features]);
    $("layer-count").textContent = fmt(_("{n} of {max}"), {n: config.layers.length, max: options.limits.max_layers});
    if (shape === lastShape) return;
    lastShape = shape;
    closeParam();
    const box = $("net");
    box.querySelectorAll(".col").forEach((el) => el.remove());
    const svg = $("net-lines");
    svg.innerHTML = "";
    lines = []; biases = [];
    const cols = [];
    const column = (cls, head) => {
      const col = document.createElement("div");
      col.className = "col " + cls;
      const h = document.createElement("div");
      h.className = "col-head";
      h.append(...head);
      const nodes = document.createElement("div");
      nodes.className = "nodes";
      col.append(h, nodes);
      box.appendChild(col);
      cols.push(nodes);
      return nodes;
    };
    const node = (nodes, id, title, k, j, cls) => {
      const wrap = document.createElement("div");
      wrap.className = "node";
      const c = document.createElement("canvas");
      c.width = c.height = 50;
      c.id = id;
      c.className = "unit-map " + cls;
      c.title = title;
      wrap.appendChild(c);
      wrap.addEventListener("mouseenter", () => { hover = {k, j, title}; redraw(); });
      wrap.addEventListener("mouseleave", () => { hover = null; redraw(); });
      nodes.appendChild(wrap);
      return wrap;
    };
    const label = (text) => { const s = document.createElement("span"); s.textContent = text; return s; };
    // Inputs.
    const inputs = column("inputs", [label(_("Input"))]);
    config.features.forEach((f, j) => {
      const w = node(inputs, `input-${j}`, options.feature_labels[f] || f, -1, j, "input");
      const name = document.createElement("span");
      name.className = "node-label";
      name.textContent = options.feature_labels[f] || f;
      w.appendChild(name);
    });
    // Hidden layers, each with its − n + buttons and its activation.
    config.layers.forEach((layer, k) => {
      const minus = document.createElement("button");
      minus.textContent = "−";
      minus.title = _("one unit fewer");
      minus.setAttribute("aria-label", fmt(_("one unit fewer in hidden layer {k}"), {k: k + 1}));
      const plus = document.createElement("button");
      plus.textContent = "+";
      plus.title = _("one unit more");
      plus.setAttribute("aria-label", fmt(_("one unit more in hidden layer {k}"), {k: k + 1}));
      // By index, at click time: `config` is replaced by the server's copy after each change.
      minus.addEventListener("click", () => {
        if (config.layers[k].units > 1) { config.layers[k].units -= 1; changed(); }
      });
      plus.addEventListener("click", () => {
        if (config.layers[k].units < options.limits.max_units) { config.layers[k].units += 1; changed(); }
      });
      const act = document.createElement("select");
      act.id = `activation-${k}`;
      act.title = fmt(_("activation of hidden layer {k}"), {k: k + 1});
      fillSelect(act, options.activations);
      act.value = layer.activation;
      act.addEventListener("change", (e) => { config.layers[k].activation = e.target.value; changed(); });
      const buttons = document.createElement("div");
      buttons.className = "unit-buttons";
      buttons.append(minus, label(`${layer.units}`), plus);
      const nodes = column("hidden", [buttons, act]);
      for (let j = 0; j < layer.units; j++) {
        node(nodes, `unit-${k}-${j}`, fmt(_("hidden {k}, unit {j}"), {k: k + 1, j: j + 1}), k, j, "hidden");
      }
    });
    const out = column("output-col", [label(_("Output"))]);
    node(out, "unit-out", _("output"), config.layers.length, 0, "output");
    // One line per weight, one square per bias (drawn under / over the nodes by placeLines).
    for (let col = 1; col < cols.length; col++) {
      const nIn = cols[col - 1].children.length, nOut = cols[col].children.length;
      for (let i = 0; i < nOut; i++) {
        for (let j = 0; j < nIn; j++) {
          const hit = document.createElementNS(SVG, "path");
          hit.setAttribute("class", "hit");
          const path = document.createElementNS(SVG, "path");
          path.setAttribute("class", "weight");
          path.dataset.layer = String(col - 1); path.dataset.unit = String(i); path.dataset.source = String(j);
          const t = document.createElementNS(SVG, "title");
          hit.appendChild(t);
          const what = {layer: col - 1, kind: "weight", unit: i, source: j,
            name: fmt(_("weight {source} → {unit}"), {
              source: col === 1 ? (options.feature_labels[config.features[j]] || "") : `${unitName(col - 1)}:${j + 1}`,
              unit: `${unitName(col)}${col === cols.length - 1 ? "" : ":" + (i + 1)}`})};
          hit.addEventListener("mouseenter", () => { path.classList.add("hot"); netInfo(what); });
          hit.addEventListener("mouseleave", () => { path.classList.remove("hot"); netInfo(null); });
          hit.addEventListener("click", (e) => openParam(what, e));
          svg.append(path, hit);
          lines.push({path, hit, title: t, what, from: [col - 1, j], to: [col, i]});
        }
        const sq = document.createElement("button");
        sq.type = "button";
        sq.className = "bias";
        const what = {layer: col - 1, kind: "bias", unit: i, source: null,
          name: fmt(_("bias of {unit}"), {unit: `${unitName(col)}${col === cols.length - 1 ? "" : ":" + (i + 1)}`})};
        sq.setAttribute("aria-label", what.name);
        sq.addEventListener("mouseenter", () => netInfo(what));
        sq.addEventListener("mouseleave", () => netInfo(null));
        sq.addEventListener("click", (e) => openParam(what, e));
        cols[col].children[i].appendChild(sq);
        biases.push({el: sq, what});
      }
    }
    placeLines();
    if (lastState) drawNet(lastState);
  }

  // Line geometry from where the nodes landed (a layout change or a resize moves them).
  function placeLines() {
    const box = $("net");
    if (!box || !lines.length) return;
    const r0 = box.getBoundingClientRect();
    const svg = $("net-lines");
    svg.setAttribute("width", String(box.scrollWidth));
    svg.setAttribute("height", String(box.scrollHeight));
    const cols = [...box.querySelectorAll(".nodes")];
    const at = (col, j, side) => {
      const r = cols[col].children[j].querySelector("canvas").getBoundingClientRect();
      return [(side ? r.left : r.right) - r0.left + box.scrollLeft, r.top + r.height / 2 - r0.top + box.scrollTop];
    };
    for (const l of lines) {
      const [x0, y0] = at(l.from[0], l.from[1], false), [x1, y1] = at(l.to[0], l.to[1], true);
      const mx = (x0 + x1) / 2;
      const d = `M${x0},${y0} C${mx},${y0} ${mx},${y1} ${x1},${y1}`;
      l.path.setAttribute("d", d);
      l.hit.setAttribute("d", d);
    }
  }

  function paramValue(net, what) {
    const layer = net && net[what.layer];
    if (!layer) return null;
    // The drawing may be one state ahead of the network it shows (a new shape): no value yet.
    if (what.kind === "bias") return layer.b && what.unit < layer.b.length ? layer.b[what.unit] : null;
    const row = layer.W[what.unit];
    return row && what.source < row.length ? row[what.source] : null;
  }

  function weightColour(w) {
    return w >= 0 ? "#0877bd" : "#f59322";
  }

  function drawNet(st) {
    const net = st.network;
    if (!net) return;
    for (const l of lines) {
      const w = paramValue(net, l.what);
      if (w === null || w === undefined) continue;
      const a = Math.abs(w);
      // Width follows |w| (capped so one huge weight does not cover the picture).
      l.path.setAttribute("stroke-width", String(0.5 + 2.5 * Math.min(a, 4)));
      l.path.setAttribute("stroke", weightColour(w));
      l.path.setAttribute("stroke-opacity", String(0.25 + 0.65 * Math.min(1, a)));
      l.path.dataset.w = String(w);
      l.title.textContent = fmt(_("{name}: {value} (click to edit)"), {name: l.what.name, value: fmtNum(w)});
    }
    for (const b of biases) {
      const v = paramValue(net, b.what);
      b.el.hidden = v === null || v === undefined;
      if (b.el.hidden) continue;
      b.el.style.background = weightColour(v);
      b.el.style.opacity = String(0.3 + 0.7 * Math.min(1, Math.abs(v)));
      b.el.title = fmt(_("{name}: {value} (click to edit)"), {name: b.what.name, value: fmtNum(v)});
      b.el.dataset.w = String(v);
    }
    const info = $("net-info");
    if (info.dataset.what) netInfo(JSON.parse(info.dataset.what));
  }

  function netInfo(what) {
    const info = $("net-info");
    if (!what) {
      info.dataset.what = "";
      info.textContent = _("Hover a unit to see it large in the output panel; hover a line for its weight; click a line or a bias square to edit it.");
      return;
    }
    info.dataset.what = JSON.stringify(what);
    const v = lastState ? paramValue(lastState.network, what) : null;
    info.textContent = fmt(_("{name} = {value} · click to edit"), {name: what.name, value: fmtNum(v)});
  }

  let editing = null;

  function openParam(what, ev) {
    editing = what;
    const form = $("param-form");
    form.hidden = false;
    $("param-name").textContent = what.name;
    const v = lastState ? paramValue(lastState.network, what) : 0;
    $("param-value").value = v === null ? "0" : String(v);
    const box = $("net").getBoundingClientRect();
    form.style.left = `${Math.max(0, Math.min(ev.clientX - box.left, box.width - 220))}px`;
    form.style.top = `${ev.clientY - box.top + $("net").scrollTop + 8}px`;
    $("param-value").focus();
    $("param-value").select();
  }

  function closeParam() {
    editing = null;
    const form = $("param-form");
    if (form) form.hidden = true;
  }

  async function submitParam() {
    if (!editing) return;
    const value = Number($("param-value").value);
    if (!Number.isFinite(value)) return showStatus(_("Type a number, e.g. 0.5 or -1.2."));
    const {layer, kind, unit, source} = editing;
    try {
      await api("POST", `/api/sessions/${session}/parameter`, {layer, kind, unit, source, value});
      closeParam();
      showStatus("");
    } catch (e) {
      showStatus(fmt(_("Not set: {why}"), {why: e.message}));
    }
  }

  // Control(s) of each configuration field, marked when the server refuses a change to it.
  const FIELD_CONTROLS = {dataset: ["dataset"], noise: ["noise"], n_points: ["n_points"],
    train_ratio: ["train_ratio"], batch_size: ["batch_size"], seed: ["seed"], features: ["features"],
    layers: ["net"], init: ["init"], regularizer: ["regularizer"], reg_rate: ["reg_rate"],
    dropout: ["dropout"], batchnorm: ["batchnorm"], optimizer: ["optimizer"], lr: ["lr"]};

  function markRefused(fields) {
    document.querySelectorAll(".refused").forEach((el) => {
      el.classList.remove("refused");
      el.removeAttribute("aria-invalid");
    });
    for (const f of fields || []) {
      for (const id of FIELD_CONTROLS[f] || []) {
        const el = $(id);
        if (!el) continue;
        el.classList.add("refused");
        el.setAttribute("aria-invalid", "true");
      }
    }
  }

  async function changed() {
    writeURL();
    showConfig();
    try {
      const info = await api("PUT", `/api/sessions/${session}/config`, config);
      config = info.config;
      accepted = clone(info.config);
      markRefused([]);
      showStatus("");
    } catch (e) {
      if (e.status >= 400 && e.status < 500 && accepted) {
        // Refused: the network runs as before, so the controls and the URL say so again.
        config = clone(accepted);
        showConfig();
        writeURL();
        markRefused(e.fields);
        showStatus(fmt(_("Not changed: {why}. The controls show the running settings again."), {why: e.message}));
      } else {
        showStatus(e.message);
      }
    }
  }

  async function control(action, body, method) {
    try {
      await api(method || "POST", `/api/sessions/${session}/${action}`, body);
    } catch (e) {
      showStatus(e.message);
    }
  }

  function togglePlay() {
    if (playing) control("pause");
    else control("play", {speed: stepsPerSecond()});
  }

  function loadPreset(id) {
    presetId = id;
    const p = presets.find((x) => x.id === id);
    showPreset();
    if (!p) return writeURL();
    config = JSON.parse(JSON.stringify(p.config));
    if (p.speed) speed = p.speed;
    if (playing) control("pause");
    changed();
    sendView();
  }

  function showPreset() {
    const p = presets.find((x) => x.id === presetId);
    $("preset-box").hidden = !p;
    if (!p) return;
    $("preset-title").textContent = p.title;
    $("preset-text").textContent = p.explanation;
    const qs = $("preset-questions");
    qs.textContent = _("Questions:") + " ";
    for (const q of p.questions) qs.appendChild(questionBadge(q));
    const link = $("preset-report");
    link.dataset.report = `exp-${p.experiment}`;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = fmt(_("experiment {id} in the report"), {id: p.experiment.toUpperCase()});
    link.title = options.report ? "" : _("no report is served yet: the link says how to make one");
  }

  function questionBadge(q) {
    const claim = options.questions[q] || "";
    const a = document.createElement(options.report ? "a" : "span");
    a.className = "qid";
    a.textContent = q;
    a.title = claim ? `${q}: ${claim}` : q;
    if (options.report) {
      a.dataset.report = `q-${q}`;
      a.href = `/report#q-${q}`;
      a.target = "_blank";
      a.rel = "noopener";
    }
    return a;
  }

  // -- the session and its stream ---------------------------------------------------------------
  async function openSession() {
    const info = await api("POST", "/api/sessions", config);
    session = info.id;
    config = info.config;
    accepted = clone(info.config);
    document.body.dataset.session = session;
    connect();
    if (presetId) sendView();
  }

  // The session's language and lesson (the preset whose own finding is ranked first).
  function sendView() {
    if (session) control("view", {lang, preset: presetId}, "PUT");
  }

  // One WebSocket per tab (browsers open many per host, unlike the six HTTP connections that
  // server-sent events would each hold one of). Closing it ends the session on the server.
  function connect() {
    if (socket) socket.close();
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}` +
      `/api/sessions/${session}/ws`);
    socket = ws;
    ws.addEventListener("message", (ev) => {
      if (ws !== socket) return;
      document.body.dataset.connected = "1";
      onState(JSON.parse(ev.data));
    });
    ws.addEventListener("close", () => {
      if (ws !== socket || leaving) return;
      socket = null;
      lost();
    });
  }

  // The server went away (stopped, restarted) or ended the session: say so, stop Play, and keep
  // trying; once it answers, a new session starts with the same settings.
  function lost() {
    document.body.dataset.connected = "0";
    playing = false;
    $("play").textContent = _("▶ Play");
    document.body.dataset.playing = "0";
    showStatus(_("Server unreachable, retrying…"), "info");
    if (retrying) return;
    retrying = true;
    const attempt = async () => {
      try {
        await api("GET", "/api/health");
        await openSession();
        retrying = false;
        showStatus("");
      } catch (e) {
        setTimeout(attempt, 1000);
      }
    };
    setTimeout(attempt, 500);
  }

  window.addEventListener("pagehide", () => { leaving = true; if (socket) socket.close(); });

  // -- drawing ----------------------------------------------------------------------------------
  function b64bytes(s) {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function mix(a, b, t) {
    return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
  }

  // t in [-1, 1]: orange (class 0) ← white → blue (class 1), as Playground.
  function diverging(t, strength) {
    return t < 0 ? mix(WHITE, C0, -t * strength) : mix(WHITE, C1, t * strength);
  }

  function paint(canvas, bytes, n, toT, strength) {
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const c = diverging(toT(bytes[i]), strength);
      img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2];
      img.data[4 * i + 3] = 255;
    }
    if (canvas.width === n) { ctx.putImageData(img, 0, 0); return; }
    const off = document.createElement("canvas");
    off.width = n; off.height = n;
    off.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
  }

  let points = null;

  // The output panel: the network's output over the data (or, while a unit is hovered, that
  // unit's map), the points, axes and a colour bar.
  function drawBoundary(st) {
    const b = st.boundary;
    const canvas = $("boundary");
    const ctx = canvas.getContext("2d");
    const unit = hover && hoverMap(st, hover);
    if (unit) {
      paint(canvas, b64bytes(unit.map), st.unit_grid, (v) => v / 127.5 - 1, 0.9);
      $("boundary-caption").textContent = fmt(unit.scale ? _("{unit}: from {lo} to {hi} (full colour at ±{scale})")
        : _("{unit}: from {lo} to {hi}"), {unit: hover.title, lo: fmtNum(unit.min), hi: fmtNum(unit.max), scale: fmtNum(unit.scale)});
    } else {
      const toT = view.discrete ? (v) => (v >= 127.5 ? 1 : -1) : (v) => v / 127.5 - 1;
      paint(canvas, b64bytes(b.p), b.size, toT, 0.8);
      const reg = st.problem === "regression";
      $("boundary-caption").textContent = reg
        ? (view.discrete ? _("output, discretized: its sign") : _("output: the predicted value, −1 orange · 0 white · 1 blue"))
        : (view.discrete ? _("output, discretized: the predicted class") : _("output: P(class 1), 0 orange · 0.5 white · 1 blue"));
    }
    drawAxes(ctx, b.extent, canvas.width, canvas.height);
    if (!points) return;
    const [x0, x1, y0, y1] = b.extent;
    const W = canvas.width, H = canvas.height;
    const reg = st.problem === "regression";
    // A regression target is coloured on the same scale as the picture, −1 … 1.
    const colour = (y, alpha) => {
      if (!reg) return y ? `rgba(8,119,189,${alpha})` : `rgba(245,147,34,${alpha})`;
      const c = diverging(Math.max(-1, Math.min(1, y)), 1);
      return `rgba(${c[0] | 0},${c[1] | 0},${c[2] | 0},${alpha})`;
    };
    const draw = (set, test) => {
      for (let i = 0; i < set.y.length; i++) {
        const [x, y] = set.x[i];
        ctx.beginPath();
        ctx.arc((x - x0) / (x1 - x0) * W, (y1 - y) / (y1 - y0) * H, test ? 3.2 : 3, 0, 2 * Math.PI);
        if (test) {
          // Test points: lighter, with a light ring (Playground's "show test data").
          ctx.fillStyle = colour(set.y[i], 0.4);
          ctx.fill();
          ctx.lineWidth = 1;
          ctx.strokeStyle = "rgba(31,41,51,0.35)";
        } else {
          ctx.fillStyle = colour(set.y[i], 1);
          ctx.fill();
          ctx.lineWidth = reg ? 1 : 0.8;
          ctx.strokeStyle = reg ? "#555" : "#fff";
        }
        ctx.stroke();
      }
    };
    draw(points.train, false);
    if (view.test) draw(points.test, true);
  }

  function drawAxes(ctx, extent, W, H) {
    const [x0, x1, y0, y1] = extent;
    const span = x1 - x0;
    const stepv = span > 20 ? 5 : span > 8 ? 2 : span > 3 ? 1 : 0.5;
    ctx.save();
    ctx.font = "10px system-ui, sans-serif";
    ctx.fillStyle = "rgba(31,41,51,0.75)";
    ctx.strokeStyle = "rgba(31,41,51,0.5)";
    ctx.lineWidth = 1;
    for (let v = Math.ceil(x0 / stepv) * stepv; v <= x1; v += stepv) {
      const px = (v - x0) / (x1 - x0) * W;
      ctx.beginPath(); ctx.moveTo(px, H); ctx.lineTo(px, H - 5); ctx.stroke();
      if (px > 10 && px < W - 10) ctx.fillText(String(+v.toFixed(1)), px - 6, H - 7);
    }
    for (let v = Math.ceil(y0 / stepv) * stepv; v <= y1; v += stepv) {
      const py = (y1 - v) / (y1 - y0) * H;
      ctx.beginPath(); ctx.moveTo(0, py); ctx.lineTo(5, py); ctx.stroke();
      if (py > 10 && py < H - 16) ctx.fillText(String(+v.toFixed(1)), 7, py + 3);
    }
    ctx.restore();
  }

  function hoverMap(st, h) {
    if (h.k === -1) return st.inputs && st.inputs[h.j];
    if (h.k === config.layers.length) return null;  // the output is the boundary itself
    return st.units[h.k] && st.units[h.k][h.j];
  }

  function drawUnits(st) {
    (st.inputs || []).forEach((u, j) => {
      const c = $(`input-${j}`);
      if (c) paint(c, b64bytes(u.map), st.unit_grid, (v) => v / 127.5 - 1, 0.9);
    });
    st.units.forEach((layer, k) => layer.forEach((u, j) => {
      const c = $(`unit-${k}-${j}`);
      if (!c) return;
      paint(c, b64bytes(u.map), st.unit_grid, (v) => v / 127.5 - 1, 0.9);
      const dead = u.min === 0 && u.max === 0;
      c.classList.toggle("dead", dead);
      c.title = dead ? fmt(_("hidden {k}, unit {j}: outputs 0 everywhere on the picture"), {k: k + 1, j: j + 1})
        : fmt(_("hidden {k}, unit {j}: outputs from {lo} to {hi} on the picture"),
          {k: k + 1, j: j + 1, lo: fmtNum(u.min), hi: fmtNum(u.max)});
    }));
    const out = $("unit-out");
    if (out) paint(out, b64bytes(st.boundary.p), st.boundary.size, (v) => v / 127.5 - 1, 0.8);
  }

  function showProblem(st) {
    const reg = st.problem === "regression";
    document.body.dataset.problem = st.problem || "classification";
    $("bar-lo").textContent = reg ? "−1" : "0";
    $("bar-hi").textContent = reg ? "1" : "1";
    $("legend-classes").hidden = reg;
    $("acc-head").textContent = reg ? "" : _("accuracy");
  }

  function redraw() {
    if (!lastState) return;
    drawBoundary(lastState);
  }

  function drawHistogram(canvas, h) {
    const dpr = window.devicePixelRatio || 1;
    const W = 160, H = 36;
    canvas.width = W * dpr; canvas.height = H * dpr;
    const ctx = canvas.getContext("2d");
    ctx.scale(dpr, dpr);
    ctx.clearRect(0, 0, W, H);
    if (!h) return;
    const max = Math.max(1, ...h.counts);
    const bw = W / h.counts.length;
    ctx.fillStyle = "#5b8db8";
    h.counts.forEach((c, i) => {
      const bh = (H - 2) * Math.sqrt(c / max);  // √ so thin tails stay visible
      ctx.fillRect(i * bw + 0.5, H - bh, Math.max(1, bw - 1), bh);
    });
    canvas.title = fmt(_("activations from {lo} to {hi}, the same axis for every layer (bar height ∝ √count)"),
      {lo: fmtNum(h.edges[0]), hi: fmtNum(h.edges[h.edges.length - 1])});
  }

  function fmtNum(v) {
    if (v === null || v === undefined) return "–";
    const a = Math.abs(v);
    if (a !== 0 && (a < 0.01 || a >= 1000)) return v.toExponential(1);
    return v.toFixed(a < 1 ? 3 : 2);
  }

  function fmtPct(v) {
    return v === null || v === undefined ? "–" : `${(100 * v).toFixed(v > 0 && v < 0.1 ? 1 : 0)}%`;
  }

  function drawLayerTable(layers) {
    const body = document.querySelector("#layer-table tbody");
    if (body.children.length !== layers.length) {
      body.innerHTML = "";
      for (const _ of layers) {
        const tr = document.createElement("tr");
        for (let i = 0; i < 9; i++) tr.appendChild(document.createElement("td"));
        const td = document.createElement("td");
        td.appendChild(document.createElement("canvas"));
        tr.appendChild(td);
        body.appendChild(tr);
      }
    }
    layers.forEach((l, k) => {
      const tds = body.children[k].children;
      const name = l.activation ? `${l.name} · ${l.activation}` : l.name;
      tds[0].innerHTML = `<span class="sw" style="background:${LAYER_COLORS[k] || "#444"}"></span> `;
      tds[0].appendChild(document.createTextNode(name));
      tds[1].textContent = l.units;
      tds[2].textContent = l.activation ? fmtNum(l.act_std) : "";
      tds[3].textContent = fmtNum(l.grad_norm);
      tds[4].textContent = fmtNum(l.update_ratio);
      tds[5].textContent = l.activation ? fmtPct(l.dead) : "";
      tds[6].textContent = l.activation ? fmtPct(l.saturated) : "";
      tds[7].textContent = fmtPct(l.weight_small);
      tds[8].textContent = l.distinct_units === null ? "–" : `${l.distinct_units} / ${l.units}`;
      tds[5].classList.toggle("bad", (l.dead || 0) >= 0.25);
      tds[6].classList.toggle("bad", (l.saturated || 0) >= 0.25);
      tds[8].classList.toggle("bad", l.units > 1 && l.distinct_units !== null && l.distinct_units <= l.units / 2);
      drawHistogram(tds[9].firstChild, l.histogram);
    });
  }

  function drawFindings(findings) {
    const ol = $("findings");
    ol.innerHTML = "";
    if (!findings.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = _("none yet: the probes look for dead and saturated units, vanishing and " +
        "exploding gradients, symmetric units, odd update ratios and divergence");
      ol.appendChild(li);
      return;
    }
    // Most important first (the server ranks them; a preset's own lesson leads).
    for (const f of findings) {
      const li = document.createElement("li");
      const where = document.createElement("span");
      where.className = "where";
      where.textContent = fmt(_("step {step} · {layer}"), {step: f.step, layer: f.layer});
      li.appendChild(where);
      li.appendChild(document.createTextNode(f.text));
      if (f.question) li.appendChild(questionBadge(f.question));
      ol.appendChild(li);
    }
  }

  // -- charts (uPlot) ---------------------------------------------------------------------------
  function chartWidth(el) {
    return Math.max(200, el.clientWidth || el.parentElement.clientWidth - 4);
  }

  function makeChart(id, series, scales, axes, height) {
    const el = $(id);
    el.innerHTML = "";
    return new uPlot({
      width: chartWidth(el), height: height || 170, series: [{label: _("step")}, ...series.map(line)],
      scales: {x: {time: false}, ...scales}, axes: [{size: 28}, ...axes],
      legend: {show: true, live: false}, cursor: {drag: {x: false, y: false}},
    }, [[]].concat(series.map(() => [])), el);
  }

  function line(s) {
    return {points: {show: false}, spanGaps: true, ...s};
  }

  function buildCharts(layers) {
    const nLayers = layers.length;
    // Saturation is measured for saturating activations only (sigmoid, tanh…).
    satLayers = layers.slice(0, -1).map((l, k) => (l.saturating ? k : null))
      .filter((k) => k !== null);
    const sat = satLayers;
    for (const c of Object.values(charts)) c.destroy();
    charts = {};
    charts.loss = makeChart("chart-loss", [
      {label: _("train loss"), stroke: "#7b8794", width: 1.5, scale: "loss"},
      {label: _("test loss"), stroke: "#1f2933", width: 2, scale: "loss"},
      {label: _("train acc"), stroke: "#7b8794", width: 1, dash: [4, 3], scale: "acc"},
      {label: _("test acc"), stroke: "#0b6bcb", width: 1.5, dash: [4, 3], scale: "acc"},
    ], {loss: {auto: true, range: (u, lo, hi) => [0, Math.max(hi, 0.1)]}, acc: {range: [0, 1]}},
    [{scale: "loss", size: 44}, {scale: "acc", side: 1, size: 44, grid: {show: false}}], 190);
    const perLayer = (prefix, extra) => Array.from({length: nLayers}, (u, k) => ({
      label: k === nLayers - 1 ? _("out") : `L${k + 1}`, stroke: LAYER_COLORS[k] || "#444",
      width: 1.5, ...(extra || {}),
    }));
    const logAxis = [{size: 48, values: (u, splits) => splits.map(logTick)}];
    charts.grad = makeChart("chart-grad", perLayer("grad"), {y: {distr: 3}}, logAxis);
    charts.update = makeChart("chart-update", [...perLayer("update"),
      {label: "1e-3", stroke: "#9aa5b1", dash: [5, 4], width: 1}], {y: {distr: 3}}, logAxis);
    const hidden = nLayers - 1;
    charts.dead = makeChart("chart-dead", [
      ...Array.from({length: hidden}, (u, k) => ({label: fmt(_("dead L{k}"), {k: k + 1}), stroke: LAYER_COLORS[k], width: 1.5})),
      ...sat.map((k) => ({label: fmt(_("sat L{k}"), {k: k + 1}), stroke: LAYER_COLORS[k], width: 1, dash: [4, 3]})),
    ], {y: {range: [0, 1]}}, [{size: 44}]);
  }

  function logTick(v) {
    if (v === null) return "";
    return v >= 0.01 && v < 1000 ? String(Number(v.toPrecision(2))) : v.toExponential(0);
  }

  function col(name) { return history.data[name] || []; }

  function positive(arr) { return arr.map((v) => (v === null || v <= 0 ? null : v)); }

  function drawCharts(layers) {
    const nLayers = layers.length;
    const sat = satLayers.map((k) => k + 1);
    const steps = col("step");
    if (!steps.length) return;
    charts.loss.setData([steps, col("train_loss"), col("test_loss"), col("train_acc"), col("test_acc")]);
    const ks = Array.from({length: nLayers}, (_, k) => k + 1);
    charts.grad.setData([steps, ...ks.map((k) => positive(col(`grad_norm:${k}`)))]);
    charts.update.setData([steps, ...ks.map((k) => positive(col(`update_ratio:${k}`))),
      steps.map(() => 1e-3)]);
    const hk = ks.slice(0, nLayers - 1);
    charts.dead.setData([steps, ...hk.map((k) => col(`dead:${k}`)),
      ...sat.map((k) => col(`saturated:${k}`))]);
  }

  function addHistory(h) {
    if (h.full) {
      history = {columns: h.columns, data: {}};
      for (const c of h.columns) history.data[c] = [];
    }
    h.rows.forEach((row) => row.forEach((v, i) => history.data[h.columns[i]].push(v)));
  }

  // -- one update from the server ---------------------------------------------------------------
  // One update; `again` redraws the last one (after a language switch) without adding its
  // history rows a second time.
  function onState(st, again) {
    const nLayers = st.layers.length;
    if (st.run !== lastRun || st.history.full || again) {
      if (st.run !== lastRun) {
        config = st.config;
        showConfig();
      }
      lastRun = st.run;
      buildCharts(st.layers);
    }
    if (st.points) points = st.points;
    lastState = st;
    if (!again) addHistory(st.history);
    playing = st.playing;
    $("play").textContent = playing ? _("❚❚ Pause") : _("▶ Play");
    $("rate").textContent = playing && st.rate !== null && st.rate !== undefined
      ? Math.round(st.rate).toLocaleString("en") : "–";
    document.body.dataset.playing = playing ? "1" : "0";
    $("step-count").textContent = st.step.toLocaleString("en");
    $("epoch-count").textContent = st.epoch.toLocaleString("en");
    const m = st.metrics;
    $("train-loss").textContent = fmtNum(m.train_loss);
    $("test-loss").textContent = fmtNum(m.test_loss);
    $("train-acc").textContent = fmtPct(m.train_acc);
    $("test-acc").textContent = fmtPct(m.test_acc);
    showProblem(st);
    drawBoundary(st);
    drawUnits(st);
    drawNet(st);
    drawLayerTable(st.layers);
    drawFindings(st.findings);
    drawCharts(st.layers);
    if (st.stopped) {
      // The lab's step cap is information (reset to go on), divergence is a warning.
      showStatus(st.stopped, st.stopped_kind === "limit" ? "info" : "");
    }
    document.body.dataset.step = String(st.step);
    document.body.dataset.run = String(st.run);
  }

  // -- start ------------------------------------------------------------------------------------
  // -- "Ask as a question": the running settings as a question file for `whynet ask` -------------
  const ASK_EXAMPLES = {lr: "0.003, 0.03", activation: "relu, tanh", optimizer: "adam, sgd",
                        batch_size: "10, 100", dropout: "0, 0.5", batchnorm: "true, false"};

  function askValue(text) {
    if (text === "true" || text === "false") return text === "true";
    return text !== "" && Number.isFinite(Number(text)) ? Number(text) : text;
  }

  async function askQuestion() {
    const values = $("ask-values").value.split(",").map((v) => askValue(v.trim())).filter((v) => v !== "");
    $("ask-error").hidden = true;
    try {
      const out = await api("POST", `/api/sessions/${session}/question`,
                            {dimension: $("ask-dimension").value, values});
      $("ask-toml").value = out.toml;
      $("ask-toml").hidden = false;
      const link = $("ask-download");
      link.href = "data:application/toml;charset=utf-8," + encodeURIComponent(out.toml);
      link.download = out.filename;
      link.hidden = false;
    } catch (e) {
      $("ask-error").textContent = fmt(_("Not a question yet: {why}"), {why: e.message});
      $("ask-error").hidden = false;
    }
  }

  function buildAsk() {
    $("ask-dimension").addEventListener("change", () => {
      $("ask-values").value = ASK_EXAMPLES[$("ask-dimension").value] || "";
    });
    $("ask-make").addEventListener("click", askQuestion);
  }

  // -- the language switch (한국어 / English): everything in place, the session goes on ----------
  async function loadLanguage(code) {
    const [msgs, opts, ps] = await Promise.all([api("GET", `/api/messages?lang=${code}`),
      api("GET", `/api/options?lang=${code}`), api("GET", `/api/presets?lang=${code}`)]);
    MESSAGES = msgs.messages;
    lang = msgs.lang;
    options = options ? {...options, questions: opts.questions} : opts;
    presets = ps;
  }

  async function switchLanguage(code) {
    if (code === lang) return;
    // The same page in the other language, for the texts index.html holds.
    const r = await fetch(`/?lang=${encodeURIComponent(code)}`);
    const doc = new DOMParser().parseFromString(await r.text(), "text/html");
    await loadLanguage(code);
    const mine = document.querySelectorAll("[data-i18n]"), theirs = doc.querySelectorAll("[data-i18n]");
    mine.forEach((el, i) => {
      const other = theirs[i];
      if (!other) return;
      if (el.dataset.i18n !== "attrs") el.innerHTML = other.innerHTML;
      for (const a of ["title", "aria-label"]) {
        if (other.hasAttribute(a)) el.setAttribute(a, other.getAttribute(a));
      }
    });
    document.documentElement.lang = lang;
    document.title = doc.title;
    showLanguage();
    labelControls();
    lastShape = "";
    showConfig();
    showPreset();
    netInfo(null);
    showStatus("");
    if (lastState) onState(lastState, true);
    writeURL();
    sendView();
  }

  function showLanguage() {
    for (const a of document.querySelectorAll(".lang-switch a")) {
      if (a.dataset.lang === lang) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    }
  }

  function buildLanguageSwitch() {
    for (const a of document.querySelectorAll(".lang-switch a")) {
      a.addEventListener("click", (e) => {
        e.preventDefault();
        switchLanguage(a.dataset.lang).catch((err) => showStatus(err.message));
      });
    }
  }

  async function start() {
    const q = new URLSearchParams(location.search);
    await loadLanguage(lang);
    presetId = presets.some((p) => p.id === q.get("preset")) ? q.get("preset") : "";
    const preset = presets.find((p) => p.id === presetId);
    // "?preset=dead-relu" alone is a short link to a preset; any other key is a full state.
    const bare = preset && [...q.keys()].every((k) => k === "preset" || k === "lang");
    config = bare ? JSON.parse(JSON.stringify(preset.config)) : fromQuery(q, options.defaults);
    speed = q.has("speed") ? q.get("speed") : ((bare && preset.speed) || "epoch");
    if (speed !== "epoch") speed = Number(speed);
    if (![...$("speed").options].some((o) => o.value === String(speed))) speed = "epoch";
    view.test = q.get("showtest") !== "0";
    view.discrete = q.get("discrete") === "1";
    try {
      await openSession();
    } catch (e) {
      showStatus(fmt(_("This link's settings were refused ({why}); showing the defaults instead."), {why: e.message}));
      config = JSON.parse(JSON.stringify(options.defaults));
      await openSession();
    }
    // The controls appear only once the session exists, so no change can be sent before it has
    // an id (events from the stream are tasks of their own and cannot run before this line).
    buildControls();
    buildAsk();
    buildLanguageSwitch();
    showLanguage();
    showConfig();
    showPreset();
    writeURL();
    netInfo(null);
    window.addEventListener("resize", () => {
      for (const [k, c] of Object.entries(charts)) {
        const el = $({loss: "chart-loss", grad: "chart-grad", update: "chart-update", dead: "chart-dead"}[k]);
        c.setSize({width: chartWidth(el), height: c.height});
      }
    });
    document.body.dataset.ready = "1";
  }

  start().catch((e) => showStatus(fmt(_("The lab could not start: {why}"), {why: e.message})));
})();
