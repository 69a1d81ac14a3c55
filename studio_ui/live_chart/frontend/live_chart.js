// Live charts: plotly charts that stay mounted while their figures change.
//
// Streamlit mounts two kinds of instance of the "metalearn_studio.live_chart" component
// (see __init__.py), both handled by this one module (the browser loads it once, so the
// state below is shared by every instance on the page):
//   a view   {role: "view", chart, height, plotly}: mounted once per script run under the
//            chart's key, so Streamlit keeps it; it holds the plotly div.
//   a figure {role: "figure", chart, figure (JSON text), config, revision}: mounted, hidden,
//            for each new figure (the Play loop sends many per script run).
// Each figure is drawn into its chart's view with Plotly.react, in place: the chart never
// goes blank between figures. Figures that arrive while one is being drawn are coalesced
// (only the newest is drawn next), and drawing waits for the next animation frame.
"use strict";

const charts = new Map(); // chart key -> its view element and latest figure
let plotlyLoading = null;

function chartState(key) {
  let state = charts.get(key);
  if (state === undefined) {
    state = {element: null, latest: null, drawn: null, drawnOn: null,
             drawing: false, scheduled: false, draws: 0};
    charts.set(key, state);
  }
  return state;
}

// plotly.js as shipped by the plotly Python package, served by the app (one load per page).
function loadPlotly(path) {
  if (plotlyLoading === null) {
    plotlyLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL(path, document.baseURI).href;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => {
        plotlyLoading = null; // a later figure tries again
        reject(new Error("could not load plotly.js from " + script.src));
      };
      document.head.appendChild(script);
    });
  }
  return plotlyLoading;
}

// Room for tick labels and axis titles. st.plotly_chart's theme grows the margins to fit
// them; a figure drawn here has only its own small margins, and labels outside them clip.
// With the margins grown to fit, no tick label reaches past the chart's edge: plotly's
// default check for such labels ("hide past div"), which measures every label on every
// redraw and made the browser lay the page out again each time (a third of plotly's time
// per redraw, measured), is left out on those axes (labels drawn inside the plot keep
// theirs: margins do not hold them).
function withAxisMargins(layout) {
  const fitted = Object.assign({}, layout);
  const axes = Object.keys(fitted).filter((key) => /^[xy]axis\d*$/.test(key));
  if (!fitted.xaxis) axes.push("xaxis");
  if (!fitted.yaxis) axes.push("yaxis");
  for (const key of axes) {
    const axis = Object.assign({}, fitted[key] || {});
    if (axis.automargin === undefined) axis.automargin = true;
    const outside = !axis.ticklabelposition || axis.ticklabelposition.startsWith("outside");
    if (axis.automargin === true && outside && axis.ticklabeloverflow === undefined) {
      axis.ticklabeloverflow = "allow";
    }
    fitted[key] = axis;
  }
  return fitted;
}

function schedule(state) {
  if (state.scheduled || state.drawing) return;
  state.scheduled = true;
  requestAnimationFrame(() => {
    state.scheduled = false;
    draw(state);
  });
}

async function draw(state) {
  const message = state.latest;
  const element = state.element;
  if (message === null || element === null) return;
  if (message === state.drawn && element === state.drawnOn) return;
  state.drawing = true;
  try {
    const Plotly = await loadPlotly(state.plotly);
    const figure = JSON.parse(message.figure);
    const config = Object.assign({responsive: true}, message.config || {});
    await Plotly.react(element, figure.data || [], withAxisMargins(figure.layout || {}), config);
    state.drawn = message;
    state.drawnOn = element;
    state.draws += 1;
    // completed redraws and the figure shown: the browser tests and the benchmark read them
    element.dataset.draws = String(state.draws);
    element.dataset.revision = String(message.revision);
  } catch (error) {
    console.error("live chart " + message.chart + ":", error);
  } finally {
    state.drawing = false;
    if (state.latest !== state.drawn || state.element !== state.drawnOn) schedule(state);
  }
}

function mountView(data, parentElement) {
  const state = chartState(data.chart);
  let element = parentElement.querySelector(":scope > .live-chart");
  if (element === null) {
    element = document.createElement("div");
    element.className = "live-chart";
    // Plotly measures text while drawing, which makes the browser lay out whatever changed
    // on the page; contained, a redraw lays out this chart only.
    element.style.contain = "strict";
    element.style.width = "100%";
    parentElement.appendChild(element);
  }
  element.dataset.liveChart = data.chart;
  element.style.height = data.height + "px";
  state.plotly = data.plotly;
  state.element = element;
  schedule(state);
  return () => {
    if (state.element === element) state.element = null;
  };
}

function receiveFigure(data) {
  const state = chartState(data.chart);
  state.latest = data;
  schedule(state);
}

export default function (component) {
  const data = component.data;
  if (!data || typeof data.chart !== "string") return undefined;
  if (data.role === "view") return mountView(data, component.parentElement);
  if (data.role === "figure") receiveFigure(data);
  return undefined;
}
