// whynet lab — the page. Plain JavaScript, no build step; charts by uPlot (static/vendor/).
//
// The server owns the network: this page sends the configuration (POST /api/sessions, then
// PUT …/config on every change), the transport buttons (play, pause, step, reset), and draws the
// state the server streams as server-sent events (≈10 a second while training). The whole
// configuration lives in the URL, so a copied link rebuilds the same run.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const LRS = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
  const RATES = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];
  const DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5, 0.8];
  const LAYER_COLORS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#444"];
  const C0 = [245, 147, 34], C1 = [8, 119, 189], WHITE = [255, 255, 255];
  // URL key ↔ config field, for the simple fields (features and layers are special).
  const URL_KEYS = {dataset: "dataset", noise: "noise", points: "n_points", ratio: "train_ratio",
    init: "init", reg: "regularizer", rate: "reg_rate", dropout: "dropout", opt: "optimizer",
    lr: "lr", batch: "batch_size", seed: "seed"};

  let options = null, presets = [], config = null, session = null, source = null;
  let playing = false, speed = 200, presetId = "", lastRun = null, lastShape = "";
  let history = {columns: [], data: {}};
  let charts = {}, satLayers = [];

  // -- talking to the server ------------------------------------------------------------------
  async function api(method, path, body) {
    const init = {method, headers: {}};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const r = await fetch(path, init);
    const text = await r.text();
    const data = text ? JSON.parse(text) : null;
    if (!r.ok) throw new Error((data && data.message) || `${r.status} ${r.statusText}`);
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
    q.set("speed", String(speed));
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
    return cfg;
  }

  function writeURL() {
    history_replace("?" + toQuery());
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

  function buildControls() {
    fillSelect($("dataset"), options.datasets);
    fillSelect($("init"), options.inits, (v) => ({default: "default",
      small: "small: N(0, 0.01²)", zeros: "zeros"}[v] || v));
    fillSelect($("optimizer"), options.optimizers, (v) => ({momentum: "SGD + momentum 0.9",
      nesterov: "SGD + Nesterov 0.9", sgd: "SGD", adam: "Adam", rmsprop: "RMSProp",
      adagrad: "AdaGrad"}[v] || v));
    fillSelect($("lr"), LRS);
    fillSelect($("regularizer"), options.regularizers, (v) => ({none: "none", l1: "L1", l2: "L2"}[v]));
    fillSelect($("reg_rate"), RATES);
    fillSelect($("dropout"), DROPOUTS);
    $("n_points").max = options.limits.max_points;
    $("batch_size").max = Math.min(64, options.limits.max_batch);
    const feats = $("features");
    for (const f of options.features) {
      const chip = document.createElement("span");
      chip.className = "chip";
      chip.dataset.feature = f;
      chip.id = "feature-" + f;
      chip.textContent = options.feature_labels[f] || f;
      chip.addEventListener("click", () => {
        const on = config.features.includes(f);
        if (on && config.features.length === 1) return showStatus("keep at least one input feature", "info");
        config.features = on ? config.features.filter((x) => x !== f)
          : options.features.filter((x) => x === f || config.features.includes(x));
        changed();
      });
      feats.appendChild(chip);
    }
    const preset = $("preset");
    for (const p of presets) {
      const o = document.createElement("option");
      o.value = p.id;
      o.textContent = `${p.title} (${p.questions.join(", ")})`;
      preset.appendChild(o);
    }

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
      speed = Number(e.target.value);
      writeURL();
      if (playing) control("play", {speed});
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
    for (const chip of document.querySelectorAll(".chip")) {
      chip.classList.toggle("on", config.features.includes(chip.dataset.feature));
    }
    $("speed").value = String(speed);
    $("preset").value = presetId;
    buildLayers();
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

  function buildLayers() {
    const shape = JSON.stringify(config.layers);
    $("layer-count").textContent = `${config.layers.length} of ${options.limits.max_layers}`;
    if (shape === lastShape) return;
    lastShape = shape;
    const box = $("layers");
    box.innerHTML = "";
    config.layers.forEach((layer, k) => {
      const div = document.createElement("div");
      div.className = "layer";
      const head = document.createElement("div");
      head.className = "lhead";
      const minus = document.createElement("button");
      minus.textContent = "−";
      minus.title = "one unit fewer";
      const plus = document.createElement("button");
      plus.textContent = "+";
      plus.title = "one unit more";
      const label = document.createElement("span");
      label.textContent = `${layer.units} unit${layer.units === 1 ? "" : "s"}`;
      head.append(minus, label, plus);
      // By index, at click time: `config` is replaced by the server's copy after each change.
      minus.addEventListener("click", () => {
        if (config.layers[k].units > 1) { config.layers[k].units -= 1; changed(); }
      });
      plus.addEventListener("click", () => {
        if (config.layers[k].units < options.limits.max_units) { config.layers[k].units += 1; changed(); }
      });
      const act = document.createElement("select");
      act.id = `activation-${k}`;
      act.title = `activation of hidden layer ${k + 1}`;
      fillSelect(act, options.activations);
      act.value = layer.activation;
      act.addEventListener("change", (e) => { config.layers[k].activation = e.target.value; changed(); });
      const units = document.createElement("div");
      units.className = "units";
      for (let j = 0; j < layer.units; j++) {
        const c = document.createElement("canvas");
        c.width = 24;
        c.height = 24;
        c.id = `unit-${k}-${j}`;
        units.appendChild(c);
      }
      div.append(head, act, units);
      box.appendChild(div);
    });
    if (!config.layers.length) {
      box.innerHTML = '<p class="muted">No hidden layer: a linear model (logistic regression) ' +
        "on the chosen features.</p>";
    }
  }

  async function changed() {
    writeURL();
    showConfig();
    try {
      const info = await api("PUT", `/api/sessions/${session}/config`, config);
      config = info.config;
      showStatus("");
    } catch (e) {
      showStatus(e.message);
    }
  }

  async function control(action, body) {
    try {
      await api("POST", `/api/sessions/${session}/${action}`, body);
    } catch (e) {
      showStatus(e.message);
    }
  }

  function togglePlay() {
    if (playing) control("pause");
    else control("play", {speed});
  }

  function loadPreset(id) {
    presetId = id;
    const p = presets.find((x) => x.id === id);
    showPreset();
    if (!p) return writeURL();
    config = JSON.parse(JSON.stringify(p.config));
    if (p.speed) speed = p.speed;
    changed();
  }

  function showPreset() {
    const p = presets.find((x) => x.id === presetId);
    $("preset-box").hidden = !p;
    if (!p) return;
    $("preset-title").textContent = p.title;
    $("preset-text").textContent = p.explanation;
    const qs = $("preset-questions");
    qs.innerHTML = "Questions: ";
    for (const q of p.questions) qs.appendChild(questionBadge(q));
    const link = $("preset-report");
    link.href = `/report#exp-${p.experiment}`;
    link.textContent = `experiment ${p.experiment.toUpperCase()} in the report`;
    link.title = options.report ? "" : "no report is served yet: the link says how to make one";
  }

  function questionBadge(q) {
    const claim = options.questions[q] || "";
    const a = document.createElement(options.report ? "a" : "span");
    a.className = "qid";
    a.textContent = q;
    a.title = claim ? `${q}: ${claim}` : q;
    if (options.report) a.href = `/report#q-${q}`;
    return a;
  }

  // -- the session and its stream ---------------------------------------------------------------
  async function openSession() {
    const info = await api("POST", "/api/sessions", config);
    session = info.id;
    config = info.config;
    document.body.dataset.session = session;
    connect();
  }

  function connect() {
    if (source) source.close();
    source = new EventSource(`/api/sessions/${session}/stream`);
    source.addEventListener("state", (ev) => onState(JSON.parse(ev.data)));
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) return;
      // The session ended (the server restarted, or the stream dropped): start a new one.
      showStatus("The connection to the server was lost; starting a new session.", "info");
      setTimeout(() => openSession().then(() => showStatus("")).catch((e) => showStatus(e.message)), 1000);
    });
  }

  window.addEventListener("pagehide", () => { if (source) source.close(); });

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

  function drawBoundary(b) {
    const canvas = $("boundary");
    const ctx = canvas.getContext("2d");
    paint(canvas, b64bytes(b.p), b.size, (v) => v / 127.5 - 1, 0.8);
    if (!points) return;
    const [x0, x1, y0, y1] = b.extent;
    const W = canvas.width, H = canvas.height;
    const draw = (set, test) => {
      for (let i = 0; i < set.y.length; i++) {
        const [x, y] = set.x[i];
        ctx.beginPath();
        ctx.arc((x - x0) / (x1 - x0) * W, (y1 - y) / (y1 - y0) * H, test ? 3.2 : 3, 0, 2 * Math.PI);
        ctx.fillStyle = set.y[i] ? "#0877bd" : "#f59322";
        ctx.fill();
        ctx.lineWidth = test ? 1.6 : 0.8;
        ctx.strokeStyle = test ? "#111" : "#fff";
        ctx.stroke();
      }
    };
    draw(points.train, false);
    draw(points.test, true);
  }

  function drawUnits(units) {
    units.forEach((layer, k) => layer.forEach((u, j) => {
      const c = $(`unit-${k}-${j}`);
      if (!c) return;
      paint(c, b64bytes(u.map), c.width, (v) => v / 127.5 - 1, 0.9);
      const dead = u.min === 0 && u.max === 0;
      c.classList.toggle("dead", dead);
      c.title = dead ? "this unit outputs 0 everywhere on the picture"
        : `outputs from ${fmtNum(u.min)} to ${fmtNum(u.max)} on the picture`;
    }));
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
    canvas.title = `activations from ${fmtNum(h.edges[0])} to ${fmtNum(h.edges[h.edges.length - 1])}, ` +
      "the same axis for every layer (bar height ∝ √count)";
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
      ol.innerHTML = '<li class="muted">none yet: the probes look for dead and saturated units, ' +
        "vanishing and exploding gradients, symmetric units, odd update ratios and divergence</li>";
      return;
    }
    for (const f of [...findings].reverse()) {
      const li = document.createElement("li");
      const where = document.createElement("span");
      where.className = "where";
      where.textContent = `step ${f.step} · ${f.layer}`;
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
      width: chartWidth(el), height: height || 170, series: [{label: "step"}, ...series.map(line)],
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
      {label: "train loss", stroke: "#7b8794", width: 1.5, scale: "loss"},
      {label: "test loss", stroke: "#1f2933", width: 2, scale: "loss"},
      {label: "train acc", stroke: "#7b8794", width: 1, dash: [4, 3], scale: "acc"},
      {label: "test acc", stroke: "#0b6bcb", width: 1.5, dash: [4, 3], scale: "acc"},
    ], {loss: {auto: true, range: (u, lo, hi) => [0, Math.max(hi, 0.1)]}, acc: {range: [0, 1]}},
    [{scale: "loss", size: 44}, {scale: "acc", side: 1, size: 44, grid: {show: false}}], 190);
    const perLayer = (prefix, extra) => Array.from({length: nLayers}, (_, k) => ({
      label: k === nLayers - 1 ? "out" : `L${k + 1}`, stroke: LAYER_COLORS[k] || "#444",
      width: 1.5, ...(extra || {}),
    }));
    const logAxis = [{size: 48, values: (u, splits) => splits.map(logTick)}];
    charts.grad = makeChart("chart-grad", perLayer("grad"), {y: {distr: 3}}, logAxis);
    charts.update = makeChart("chart-update", [...perLayer("update"),
      {label: "1e-3", stroke: "#9aa5b1", dash: [5, 4], width: 1}], {y: {distr: 3}}, logAxis);
    const hidden = nLayers - 1;
    charts.dead = makeChart("chart-dead", [
      ...Array.from({length: hidden}, (_, k) => ({label: `dead L${k + 1}`, stroke: LAYER_COLORS[k], width: 1.5})),
      ...sat.map((k) => ({label: `sat L${k + 1}`, stroke: LAYER_COLORS[k], width: 1, dash: [4, 3]})),
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
  function onState(st) {
    const nLayers = st.layers.length;
    if (st.run !== lastRun || st.history.full) {
      if (st.run !== lastRun) {
        config = st.config;
        showConfig();
      }
      lastRun = st.run;
      buildCharts(st.layers);
    }
    if (st.points) points = st.points;
    addHistory(st.history);
    playing = st.playing;
    speed = st.speed === undefined ? speed : (playing ? st.speed : speed);
    $("play").textContent = playing ? "❚❚ Pause" : "▶ Play";
    document.body.dataset.playing = playing ? "1" : "0";
    $("step-count").textContent = st.step.toLocaleString("en");
    $("epoch-count").textContent = st.epoch.toLocaleString("en");
    const m = st.metrics;
    $("train-loss").textContent = fmtNum(m.train_loss);
    $("test-loss").textContent = fmtNum(m.test_loss);
    $("train-acc").textContent = fmtPct(m.train_acc);
    $("test-acc").textContent = fmtPct(m.test_acc);
    drawBoundary(st.boundary);
    drawUnits(st.units);
    drawLayerTable(st.layers);
    drawFindings(st.findings);
    drawCharts(st.layers);
    if (st.stopped) showStatus(st.stopped);
    document.body.dataset.step = String(st.step);
    document.body.dataset.run = String(st.run);
  }

  // -- start ------------------------------------------------------------------------------------
  async function start() {
    [options, presets] = await Promise.all([api("GET", "/api/options"), api("GET", "/api/presets")]);
    const q = new URLSearchParams(location.search);
    presetId = presets.some((p) => p.id === q.get("preset")) ? q.get("preset") : "";
    const preset = presets.find((p) => p.id === presetId);
    // "?preset=dead-relu" alone is a short link to a preset; any other key is a full state.
    const bare = preset && [...q.keys()].every((k) => k === "preset");
    config = bare ? JSON.parse(JSON.stringify(preset.config)) : fromQuery(q, options.defaults);
    speed = q.has("speed") && !isNaN(Number(q.get("speed"))) ? Number(q.get("speed"))
      : (bare && preset.speed) || 200;
    if (![...$("speed").options].some((o) => Number(o.value) === speed)) speed = 200;
    try {
      await openSession();
    } catch (e) {
      showStatus(`This link's settings were refused (${e.message}); showing the defaults instead.`);
      config = JSON.parse(JSON.stringify(options.defaults));
      await openSession();
    }
    // The controls appear only once the session exists, so no change can be sent before it has
    // an id (events from the stream are tasks of their own and cannot run before this line).
    buildControls();
    showConfig();
    showPreset();
    writeURL();
    window.addEventListener("resize", () => {
      for (const [k, c] of Object.entries(charts)) {
        const el = $({loss: "chart-loss", grad: "chart-grad", update: "chart-update", dead: "chart-dead"}[k]);
        c.setSize({width: chartWidth(el), height: c.height});
      }
    });
    document.body.dataset.ready = "1";
  }

  start().catch((e) => showStatus(`The lab could not start: ${e.message}`));
})();
