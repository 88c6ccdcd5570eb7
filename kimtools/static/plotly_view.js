// A plotly figure drawn with Plotly.react: one small module per view, plotly.js once per page.
//
// plotly.js (about 4.8 MB) is asked from the kernel by the first view that needs it
// and shared through globalThis, instead of travelling with every widget as
// go.FigureWidget's bundle does. Nothing is loaded from the network.

function plotly(model) {
  if (globalThis.Plotly) return Promise.resolve(globalThis.Plotly);
  if (!globalThis.__kimtoolsPlotly) {
    globalThis.__kimtoolsPlotly = new Promise((resolve, reject) => {
      const onMessage = (msg) => {
        if (!msg || msg.kind !== "plotly-source") return;
        model.off("msg:custom", onMessage);
        try {
          const module = { exports: {} };
          new Function("module", "exports", msg.source)(module, module.exports);
          globalThis.Plotly = module.exports;
          resolve(module.exports);
        } catch (err) {
          reject(err);
        }
      };
      model.on("msg:custom", onMessage);
      model.send({ kind: "need-plotly" });
    });
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
