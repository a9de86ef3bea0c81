-- Weather stations (KMA ASOS and a few others): the station table shipped with newsflow.
SELECT station, region, latitude, longitude, aliases
FROM read_csv({stations_csv}, header = true, columns = {
    'station': 'VARCHAR', 'region': 'VARCHAR', 'latitude': 'DOUBLE', 'longitude': 'DOUBLE', 'aliases': 'VARCHAR'
})
