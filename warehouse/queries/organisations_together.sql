-- Organisations mentioned in the same article, the pairs seen most often first.
SELECT
    entity_a AS organisation_a,
    entity_b AS organisation_b,
    count(*) AS articles,
    min(registered_at) AS first_seen,
    max(registered_at) AS last_seen
FROM entity_pairs
WHERE type_a = 'organisation' AND type_b = 'organisation'
GROUP BY ALL
ORDER BY articles DESC, organisation_a, organisation_b
