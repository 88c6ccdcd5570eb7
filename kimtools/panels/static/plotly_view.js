// A plotly figure drawn with Plotly.react: one small module per view, plotly.js once per page.
//
// plotly.js (about 4.8 MB) is loaded once per page by the first view that needs it and
// shared through globalThis, instead of travelling with every widget as go.FigureWidget's
// bundle does. Under `kimtools serve` it comes from the dashboard server itself (the
// browser keeps it); elsewhere, or if that fails, the kernel sends plotly's bundled copy.
// Nothing is loaded from any other host.

function evaluate(source) {
  const module = { exports: {} };
  new Function("module", "exports", source)(module, module.exports);
  return module.exports;
}

function fromKernel(model) {
  return new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (!msg || msg.kind !== "plotly-source") return;
      model.off("msg:custom", onMessage);
      try {
        resolve(evaluate(msg.source));
      } catch (err) {
        reject(err);
      }
    };
    model.on("msg:custom", onMessage);
    model.send({ kind: "need-plotly" });
  });
}

function addScript(path) {
  // a <script> element, not eval: the browser compiles it off the main thread
  const config = document.getElementById("jupyter-config-data");
  const base = (config && JSON.parse(config.textContent).baseUrl) || "/";
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    // named as the page's early load is, so that later views find it
    if (!document.getElementById("kimtools-plotly")) script.id = "kimtools-plotly";
    script.src = base.replace(/\/?$/, "/") + path;
    script.onload = () => (globalThis.Plotly ? resolve(globalThis.Plotly) : reject(new Error("plotly.js did not load")));
    script.onerror = () => reject(new Error("plotly.js did not load"));
    document.head.appendChild(script);
  });
}

function fromServer(path) {
  // `kimtools serve` asks for plotly.js in the page's head as the page opens (kimtools.serving, the element
  // kimtools-plotly). Where there is no such element (another server): load plotly.js here.
  const early = document.getElementById("kimtools-plotly");
  if (!early) return addScript(path);
  if (early.dataset.state) return globalThis.Plotly ? Promise.resolve(globalThis.Plotly) : addScript(path);
  return new Promise((resolve, reject) => {
    const fallback = () => addScript(path).then(resolve, reject);
    early.addEventListener("load", () => (globalThis.Plotly ? resolve(globalThis.Plotly) : fallback()));
    early.addEventListener("error", fallback);
  });
}

function plotly(model) {
  if (globalThis.Plotly) return Promise.resolve(globalThis.Plotly);
  if (!globalThis.__kimtoolsPlotly) {
    const path = model.get("plotly_path");
    globalThis.__kimtoolsPlotly = (path ? fromServer(path).catch(() => fromKernel(model)) : fromKernel(model))
      .then((Plotly) => (globalThis.Plotly = Plotly));
  }
  return globalThis.__kimtoolsPlotly;
}

export default {
  async render({ model, el }) {
    const div = document.createElement("div");
    div.className = "kim-plot";
    div.style.width = "100%";
    el.style.width = "100%";   // side by side in an HBox, two views share the row …
    el.style.minWidth = "0";   // … and may shrink below the drawn plot's width when the page narrows
    el.appendChild(div);
    const Plotly = await plotly(model);
    // explicit sizes: plotly's autosize reads the container, which collapses to nothing in a
    // flex box while a redraw is under way (seen: heights and widths of 0 after a change)
    const draw = () => {
      const fig = model.get("figure") || {};
      const layout = { height: 450, ...(fig.layout || {}), width: el.clientWidth || undefined, autosize: false };
      // a sankey moves its nodes to the new state in a fixed half-second animation; drawn afresh it is there at once
      if (div.data && (fig.data || []).some((trace) => trace.type === "sankey")) Plotly.purge(div);
      return Plotly.react(div, fig.data || [], layout, { displaylogo: false });
    };
    await draw();
    model.on("change:figure", draw);
    // follow the width of the page (also the first real width, once the view is attached)
    let width = el.clientWidth;
    const resize = new ResizeObserver(() => {
      if (el.clientWidth > 0 && el.clientWidth !== width) {
        width = el.clientWidth;
        draw();
      }
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      model.off("change:figure", draw);
      Plotly.purge(div);
    };
  },
};
