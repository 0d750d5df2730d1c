/* CivTrack maps (Leaflet, served by CivTrack itself). With no tile server configured the
   base map is the shipped outline of Syria's governorates, so no request leaves the site.
   Small maps: any element with data-lat/data-lon. The map page: #cluster-map, which asks
   /api/v1/map/clusters/ for server-side clusters of the current filter. */
(function () {
  "use strict";
  if (typeof L === "undefined") { return; }
  var rtl = document.documentElement.dir === "rtl";
  var arabic = document.documentElement.lang === "ar";
  var lang = arabic ? "ar" : "en";

  // Text for a tooltip as text: Leaflet sets a string's content as HTML, so markup in a
  // title (or a place's name) would become elements. An element's textContent never
  // does (issue 12 §4); every tooltip and popup takes its content from here.
  function textContent(text) {
    var span = document.createElement("span");
    span.textContent = text === null || text === undefined ? "" : String(text);
    return span;
  }

  function baseMap(element, options) {
    var map = L.map(element, Object.assign({
      attributionControl: true,
      zoomSnap: 0.5,
      minZoom: 5,
      maxZoom: 16,
    }, options || {}));
    map.attributionControl.setPrefix(false);
    var tiles = element.dataset.tiles;
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 18, attribution: element.dataset.tileAttribution || "" }).addTo(map);
    }
    var geo = element.dataset.geo;
    if (geo) {
      fetch(geo, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
        var layer = L.geoJSON(data, {
          interactive: false,
          style: { color: "#6b7280", weight: 1, fillColor: "#f4f1ea", fillOpacity: tiles ? 0 : 1 },
        }).addTo(map);
        layer.bringToBack();
        data.features.forEach(function (f) {
          var p = f.properties;
          L.tooltip({ permanent: true, direction: "center", className: "map-label", interactive: false })
            .setLatLng([p.label_lat, p.label_lon])
            .setContent(textContent(arabic ? p.name_ar : p.name))
            .addTo(map);
        });
      }).catch(function () { /* the map still works without the outline */ });
    }
    return map;
  }

  // Small maps on incident and place pages.
  document.querySelectorAll("[data-lat][data-lon]").forEach(function (el) {
    var lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon);
    if (isNaN(lat) || isNaN(lon)) { return; }
    var precise = ["exact", "near", "community", "neighbourhood", "site"].indexOf(el.dataset.precision) >= 0;
    var map = baseMap(el, { scrollWheelZoom: false });
    map.setView([lat, lon], precise ? 10 : 8);
    var radius = { exact: 100, near: 2000, community: 3000, subdistrict: 12000, district: 25000, governorate: 60000 }[el.dataset.precision] || 3000;
    L.circle([lat, lon], { radius: radius, color: "#8f1d14", weight: 2, fillOpacity: 0.15 }).addTo(map);
    L.circleMarker([lat, lon], { radius: 5, color: "#8f1d14", fillColor: "#8f1d14", fillOpacity: 1 }).addTo(map);
  });

  // The map page: server-side clusters.
  var el = document.getElementById("cluster-map");
  if (!el) { return; }
  var map = baseMap(el, {});
  map.fitBounds([[32.3, 35.6], [37.35, 42.4]]);
  var layer = L.layerGroup().addTo(map);
  var status = document.getElementById("map-status");
  var detailBase = el.dataset.detailBase; // "/en/incidents/"
  var query = el.dataset.query || "";
  var pending = null;

  function colour(killed) {
    if (killed === null || killed === undefined) { return "#6b7280"; }
    if (killed >= 100) { return "#4a0d08"; }
    if (killed >= 20) { return "#8f1d14"; }
    if (killed >= 1) { return "#d0543f"; }
    return "#e9a23b";
  }

  // The cell's civilians killed as a range, in words (plain text): "3–5",
  // "at least 3", or "not recorded".
  function killedRange(c) {
    var low = c.civilians_killed_min, high = c.civilians_killed_max;
    var text;
    if (low === null || low === undefined) {
      text = el.dataset.labelNotRecorded;
    } else if (high === null || high === undefined) {
      text = el.dataset.labelAtLeast.replace("%s", low.toLocaleString(lang));
    } else if (high === low) {
      text = low.toLocaleString(lang);
    } else {
      text = "\u2066" + low.toLocaleString(lang) + "–" + high.toLocaleString(lang) + "\u2069";
    }
    return el.dataset.labelKilled.replace("%s", text);
  }

  function load() {
    var b = map.getBounds();
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(4); });
    bbox[0] = Math.max(-180, bbox[0]); bbox[2] = Math.min(180, bbox[2]);
    bbox[1] = Math.max(-90, bbox[1]); bbox[3] = Math.min(90, bbox[3]);
    var params = new URLSearchParams(query);
    params.delete("bbox");
    params.set("zoom", Math.round(map.getZoom()));
    params.set("lang", lang);
    params.set("bbox", bbox.join(","));
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(el.dataset.api + "?" + params.toString(), { signal: pending.signal, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.json();
      })
      .then(function (data) {
        layer.clearLayers();
        var cells = Array.isArray(data) ? data : (data.clusters || data.cells || data.results || data.features || []);
        var total = 0;
        cells.forEach(function (c) {
          total += c.count;
          var size = Math.max(6, Math.min(36, 5 + Math.sqrt(c.count) * 3));
          // Colour by the floor (a true "at least"); grey when no incident of the cell
          // records it. Never a sum of part of the ceilings (issue 12 §7).
          var killed = c.civilians_killed_min;
          var marker = L.circleMarker([c.lat, c.lon], {
            radius: size, color: "#fff", weight: 1.5, fillColor: colour(killed), fillOpacity: 0.85,
            className: "cluster-marker",
          });
          var label = (c.code ? (c.code + " — " + (c.title || "")) : (c.count + " " + el.dataset.labelIncidents)) + " · " + killedRange(c);
          marker.bindTooltip(textContent(label), { direction: rtl ? "left" : "right" });
          marker.on("click", function () {
            if (c.code) {
              window.location.href = detailBase + encodeURIComponent(c.code) + "/";
            } else if (c.bbox) {
              var bb = c.bbox;
              map.fitBounds([[bb[1], bb[0]], [bb[3], bb[2]]], { maxZoom: map.getZoom() + 3, padding: [20, 20] });
            } else {
              map.setView([c.lat, c.lon], map.getZoom() + 2);
            }
          });
          marker.addTo(layer);
          var node = marker.getElement && marker.getElement();
          if (node) {
            node.setAttribute("data-count", c.count);
            if (c.code) { node.setAttribute("data-code", c.code); }
          }
        });
        el.dataset.loaded = "true";
        el.dataset.clusters = String(cells.length);
        if (status) { status.textContent = el.dataset.labelShown.replace("%s", total.toLocaleString(lang)); }
      })
      .catch(function (err) {
        if (err.name === "AbortError") { return; }
        if (status) { status.textContent = el.dataset.labelError; }
      });
  }
  map.on("moveend", load);
  load();
})();
