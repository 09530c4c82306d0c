"use strict";
// The job viewer: the job's XYZ tiles on a Leaflet map fitted to its extent, a date slider,
// colormap and rescale controls with a legend, the pointer's coordinate, and a click for the
// pixel's value and (for time series) an SVG chart of its values at every date.
(function () {
  const cfg = JSON.parse(document.getElementById("viewer-config").textContent);
  const mapEl = document.getElementById("map");
  const $ = (id) => document.getElementById(id);
  const state = {
    time: cfg.times ? cfg.times.length - 1 : null,
    colormap: cfg.style.colormap,
    rescale: cfg.style.rescale,
    pixel: null,
  };

  // ---------------------------------------------------------------- map and tiles
  const [west, south, east, north] = cfg.bounds;
  const extent = L.latLngBounds([[south, west], [north, east]]);
  const map = L.map(mapEl);

  function styleQuery() {
    const q = new URLSearchParams();
    if (cfg.times) q.set("time", cfg.times[state.time]);
    if (!cfg.rgb && state.colormap) q.set("colormap", state.colormap);
    if (!cfg.rgb && state.rescale) q.set("rescale", state.rescale.join(","));
    return q.toString().replaceAll("%2C", ",").replaceAll("%3A", ":");
  }
  // An owner-only service's tiles carry a short-lived signature (a browser sends no
  // Authorization header with the images it loads); it is renewed before it expires.
  let signature = cfg.signature;
  const signed = (query) => (signature ? [query, signature.query].filter(Boolean).join("&") : query);
  const tileUrl = () => `${cfg.tiles}/{z}/{x}/{y}.png?${signed(styleQuery())}`;

  const tiles = L.tileLayer(tileUrl(), {
    bounds: extent, minZoom: 0, maxZoom: cfg.maxzoom + 3, maxNativeZoom: cfg.maxzoom,
    attribution: `<a href="/jobs/${cfg.job.id}">${cfg.job.id}</a> (ondemand)`,
  });
  let loads = 0, tileErrors = 0;
  tiles.on("loading", () => { mapEl.dataset.tiles = "loading"; });
  tiles.on("load", () => {
    loads += 1;
    mapEl.dataset.loads = String(loads);
    mapEl.dataset.tiles = "loaded";
  });
  tiles.on("tileerror", () => { tileErrors += 1; mapEl.dataset.tileErrors = String(tileErrors); });
  tiles.addTo(map);
  map.fitBounds(extent);

  function redraw() {
    tiles.setUrl(tileUrl());
    updateLinks();
  }

  function renewSignature() {
    if (!signature) return;
    const wait = Math.max(5, (signature.exp - Date.now() / 1000) / 2);
    setTimeout(async () => {
      try {
        const response = await fetch(cfg.renew);
        if (response.ok) {
          signature = await response.json();
          tiles.setUrl(tileUrl(), true);  // tiles loaded from now on use the new signature
        }
      } finally {
        renewSignature();
      }
    }, wait * 1000);
  }
  renewSignature();

  // ---------------------------------------------------------------- optional background
  let basemap = null;
  $("basemap").addEventListener("change", (event) => {
    if (event.target.checked) {
      $("basemap-note").textContent = "";
      basemap = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
        maxZoom: 19, zIndex: 0, attribution: "&copy; OpenStreetMap contributors",
      });
      basemap.once("tileerror", () => {
        map.removeLayer(basemap);
        basemap = null;
        event.target.checked = false;
        $("basemap-note").textContent = "The background map is unreachable; it is off.";
      });
      basemap.addTo(map);
      tiles.bringToFront();
    } else if (basemap) {
      map.removeLayer(basemap);
      basemap = null;
    }
  });

  // ---------------------------------------------------------------- time
  function showTime() {
    if (!cfg.times) return;
    $("time").value = String(state.time);
    $("time-label").textContent =
      `${cfg.times[state.time].slice(0, 10)} (${state.time + 1} of ${cfg.times.length})`;
  }
  function setTime(index) {
    state.time = Math.max(0, Math.min(cfg.times.length - 1, index));
    showTime();
    redraw();
    showPixel();
  }
  if (cfg.times) {
    $("time-section").hidden = false;
    $("time").max = String(cfg.times.length - 1);
    $("time").addEventListener("input", (event) => setTime(Number(event.target.value)));
    $("time-prev").addEventListener("click", () => setTime(state.time - 1));
    $("time-next").addEventListener("click", () => setTime(state.time + 1));
    showTime();
  }

  // ---------------------------------------------------------------- style and legend
  if (cfg.rgb) {
    $("style-section").hidden = true;
  } else {
    for (const name of cfg.colormaps) {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      $("colormap").appendChild(option);
    }
  }
  function showStyle() {
    if (cfg.rgb) return;
    $("colormap").value = state.colormap;
    $("rescale-min").value = state.rescale ? String(state.rescale[0]) : "";
    $("rescale-max").value = state.rescale ? String(state.rescale[1]) : "";
    updateLegend();
  }
  async function updateLegend() {
    if (!state.rescale) return;
    const q = new URLSearchParams({colormap: state.colormap, rescale: state.rescale.join(",")});
    const response = await fetch(`${cfg.legend}?${q}`);
    if (!response.ok) return;
    const body = await response.json();
    const n = body.stops.length - 1;
    $("legend-bar").style.background = "linear-gradient(to right, " +
      body.stops.map((s, i) => `${s.color} ${(i / n * 100).toFixed(1)}%`).join(", ") + ")";
    const labels = $("legend-labels");
    labels.replaceChildren();
    for (const value of [body.rescale[0], (body.rescale[0] + body.rescale[1]) / 2, body.rescale[1]]) {
      const span = document.createElement("span");
      span.textContent = String(Number(value.toPrecision(4)));
      labels.appendChild(span);
    }
  }
  function applyStyle() {
    const low = Number($("rescale-min").value), high = Number($("rescale-max").value);
    state.colormap = $("colormap").value;
    if ($("rescale-min").value !== "" && $("rescale-max").value !== "" && high > low) {
      state.rescale = [low, high];
    }
    showStyle();
    redraw();
  }
  $("colormap").addEventListener("change", applyStyle);
  $("rescale-min").addEventListener("change", applyStyle);
  $("rescale-max").addEventListener("change", applyStyle);
  $("style-reset").addEventListener("click", () => {
    state.colormap = cfg.style.colormap;
    state.rescale = cfg.style.rescale;
    showStyle();
    redraw();
  });
  showStyle();

  // ---------------------------------------------------------------- pointer and pixel
  const fmt = (latlng) => `${latlng.lat.toFixed(5)}, ${latlng.lng.toFixed(5)} (lat, lon)`;
  map.on("mousemove", (event) => { $("pointer").textContent = fmt(event.latlng); });

  let marker = null;
  function showPixel() {
    const pixel = state.pixel;
    if (!pixel) return;
    const index = cfg.times ? state.time : 0;
    const entry = pixel.series[index];
    const parts = pixel.bands.map((band, b) => {
      const v = entry ? entry.values[b] : null;
      return `${band} = ${v === null ? "no data" : v}`;
    });
    const when = cfg.times ? ` on ${cfg.times[state.time].slice(0, 10)}` : "";
    $("pixel").textContent = `${parts.join(", ")}${when} at ${pixel.lat.toFixed(5)}, ` +
      `${pixel.lon.toFixed(5)} (${pixel.crs} ${pixel.x.toFixed(1)}, ${pixel.y.toFixed(1)})`;
    if (cfg.times) OnDemandChart.render($("chart"), pixel.series, pixel.bands, state.time);
  }
  map.on("click", async (event) => {
    const lon = L.Util.wrapNum(event.latlng.lng, [-180, 180], true), lat = event.latlng.lat;
    if (marker) map.removeLayer(marker);
    marker = L.circleMarker([lat, lon], {radius: 5, color: "#e07b00", weight: 2}).addTo(map);
    $("pixel").textContent = "…";
    $("chart").replaceChildren();
    const pixelEl = $("pixel");
    pixelEl.dataset.lon = String(lon);
    pixelEl.dataset.lat = String(lat);
    delete pixelEl.dataset.ready;
    const response = await fetch(`${cfg.point}?${signed(`lon=${lon}&lat=${lat}`)}`);
    const body = await response.json();
    if (!response.ok) {
      state.pixel = null;
      pixelEl.textContent = body.message || `error ${response.status}`;
    } else {
      state.pixel = body;
      showPixel();
    }
    pixelEl.dataset.ready = response.ok ? "ok" : "error";
  });

  // ---------------------------------------------------------------- links to copy
  const LINKS = [
    ["wmts_capabilities", "WMTS capabilities"],
    ["xyz_template", "XYZ template"],
    ["tilejson", "TileJSON"],
    ["wcs", "WCS"],
    ["ogcapi", "OGC API (landing page)"],
    ["ogcapi_collection", "OGC API collection (GDAL: OGCAPI:<url>)"],
    ["qgis_wmts", "QGIS layer URI (WMTS)"],
    ["qgis_xyz", "QGIS layer URI (XYZ)"],
  ];
  function linkValue(key) {
    const query = styleQuery();
    if (key === "xyz_template") return `${cfg.links.xyz_template}?${query}`;
    if (key === "tilejson") return `${cfg.links.tilejson}?${query}`;
    if (key === "qgis_xyz") {
      const url = encodeURIComponent(`${cfg.links.xyz_template}?${query}`)
        .replaceAll("%2F", "/").replaceAll("%3A", ":");
      return `type=xyz&url=${url}&zmin=0&zmax=${cfg.maxzoom}`;
    }
    return cfg.links[key];
  }
  for (const [key, title] of LINKS) {
    const box = document.createElement("div");
    box.className = "link";
    const name = document.createElement("div");
    name.className = "small";
    name.textContent = title;
    const row = document.createElement("div");
    row.className = "row";
    const input = document.createElement("input");
    input.readOnly = true;
    input.id = `link-${key}`;
    const copy = document.createElement("button");
    copy.type = "button";
    copy.textContent = "copy";
    copy.addEventListener("click", async () => {
      input.select();
      try { await navigator.clipboard.writeText(input.value); } catch (e) {
        document.execCommand("copy");
      }
      copy.textContent = "copied";
      setTimeout(() => { copy.textContent = "copy"; }, 1200);
    });
    row.append(input, copy);
    box.append(name, row);
    $("links").appendChild(box);
  }
  function updateLinks() {
    for (const [key] of LINKS) $(`link-${key}`).value = linkValue(key);
  }
  updateLinks();
})();
