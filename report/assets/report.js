// Draws the run report's charts from the JSON in #report-data; inlined into the page by flows/report.py.
(function () {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, parent, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function colour(t) {  // -20 (blue) .. 40 (red)
    const x = Math.max(0, Math.min(1, (t + 20) / 60));
    return 'hsl(' + Math.round(240 - 240 * x) + ', 70%, 50%)';
  }
  const readings = data.weather;
  // bar chart: one bar per station, temperature from a zero line
  const bars = document.getElementById('weather-bars');
  if (bars && readings.length) {
    const row = 16, left = 90, width = 360, top = 20;
    const values = readings.map(r => r.temperature_c);
    const lo = Math.min(0, ...values), hi = Math.max(0, ...values);
    const scale = v => left + (v - lo) / ((hi - lo) || 1) * width;
    const svg = el('svg', {width: left + width + 60, height: top + row * readings.length + 10, role: 'img',
                           'aria-label': 'latest temperature by station'}, bars);
    el('line', {x1: scale(0), x2: scale(0), y1: top - 6, y2: top + row * readings.length, stroke: '#889'}, svg);
    el('text', {x: scale(0), y: 10, 'text-anchor': 'middle'}, svg, '0 ℃');
    readings.forEach((r, i) => {
      const y = top + i * row, x0 = scale(Math.min(0, r.temperature_c)), x1 = scale(Math.max(0, r.temperature_c));
      const g = el('g', {class: 'station-bar', 'data-station': r.station, 'data-temperature': r.temperature_c}, svg);
      el('text', {x: left - 6, y: y + 11, 'text-anchor': 'end'}, g, r.station);
      el('rect', {x: x0, y: y + 2, width: Math.max(1, x1 - x0), height: row - 4, fill: colour(r.temperature_c)}, g);
      el('text', {x: x1 + 4, y: y + 11}, g, r.temperature_c.toFixed(1));
    });
  }
  // map: stations placed by longitude and latitude (equirectangular, shrunk east-west by cos 36°)
  const map = document.getElementById('weather-map');
  const placed = readings.filter(r => r.latitude !== null && r.longitude !== null);
  if (map && placed.length) {
    const W = 420, H = 480, west = 124.5, east = 131.2, south = 33.0, north = 38.8;
    const x = lon => 20 + (lon - west) / (east - west) * (W - 40);
    const y = lat => 20 + (north - lat) / (north - south) * (H - 40);
    const svg = el('svg', {width: W, height: H, role: 'img', 'aria-label': 'map of the latest temperatures'}, map);
    el('rect', {x: 0, y: 0, width: W, height: H, fill: '#eef4fb'}, svg);
    for (let lat = 34; lat <= 38; lat++) {
      el('line', {x1: 0, x2: W, y1: y(lat), y2: y(lat), stroke: '#d5e0ee'}, svg);
      el('text', {x: 4, y: y(lat) - 2, fill: '#889'}, svg, lat + '°N');
    }
    for (let lon = 125; lon <= 131; lon++) {
      el('line', {y1: 0, y2: H, x1: x(lon), x2: x(lon), stroke: '#d5e0ee'}, svg);
      el('text', {x: x(lon) + 2, y: H - 4, fill: '#889'}, svg, lon + '°E');
    }
    placed.forEach(r => {
      const g = el('g', {class: 'station-dot', 'data-station': r.station, 'data-temperature': r.temperature_c}, svg);
      el('circle', {cx: x(r.longitude), cy: y(r.latitude), r: 7, fill: colour(r.temperature_c), stroke: '#fff'}, g);
      el('title', {}, g, r.station + ' ' + r.temperature_c.toFixed(1) + ' ℃ (' + r.capture_date + ')');
      el('text', {x: x(r.longitude) + 9, y: y(r.latitude) + 4}, g, r.station + ' ' + r.temperature_c.toFixed(1));
    });
  }
  document.body.setAttribute('data-rendered', 'yes');
})();
