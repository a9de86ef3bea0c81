-- One logical reading per (site, capture date, station): the same widget seen on many pages captured at the
-- same time is one reading. `pages` counts the page rows behind it and `page_ids` keeps their lineage;
-- `temperatures` lists the distinct values seen, so a disagreement between pages stays visible.
SELECT
    w.site,
    w.capture_date,
    w.station,
    any_value(s.region) AS region,
    any_value(s.latitude) AS latitude,
    any_value(s.longitude) AS longitude,
    mode(w.condition) AS condition,
    mode(w.temperature_c) AS temperature_c,
    list(DISTINCT w.temperature_c) FILTER (WHERE w.temperature_c IS NOT NULL) AS temperatures,
    count(*) AS pages,
    list(w.page_id ORDER BY w.page_id) AS page_ids
FROM weather_snapshots AS w
LEFT JOIN stations AS s USING (station)
GROUP BY w.site, w.capture_date, w.station
