-- One reading per station per capture day, over every site and page that showed it: the most common
-- temperature, the lowest and highest seen (a disagreement between sites stays visible), and how many sites
-- and pages showed it.
SELECT
    w.capture_date,
    w.station,
    any_value(s.region) AS region,
    any_value(s.latitude) AS latitude,
    any_value(s.longitude) AS longitude,
    mode(w.temperature_c ORDER BY w.temperature_c) AS temperature_c,
    min(w.temperature_c) AS min_seen_c,
    max(w.temperature_c) AS max_seen_c,
    mode(w.condition ORDER BY w.condition) AS condition,
    count(DISTINCT w.site) AS sites,
    count(*) AS pages
FROM weather_snapshots AS w
LEFT JOIN stations AS s USING (station)
WHERE w.capture_date IS NOT NULL
GROUP BY w.capture_date, w.station
