-- Weather stations (KMA ASOS and a few others): the station table shipped with newsflow, loaded by each run.
SELECT station, region, latitude, longitude, aliases
FROM landed.stations
