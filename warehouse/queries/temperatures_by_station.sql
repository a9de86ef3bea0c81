-- Each station's temperature on each capture date (one reading per station and day), stations north to south.
SELECT
    station,
    region,
    capture_date,
    temperature_c,
    min_seen_c,
    max_seen_c,
    sites,
    pages
FROM weather_daily
ORDER BY latitude DESC NULLS LAST, station, capture_date
