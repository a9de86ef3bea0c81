-- The ten people mentioned in the most articles in each month of registration (ties: more mentions first).
SELECT
    strftime(registered_at, '%Y-%m') AS month,
    canonical AS person,
    count(DISTINCT article_id) AS articles,
    CAST(sum(mention_count) AS BIGINT) AS mentions,
    string_agg(DISTINCT person_title, ', ' ORDER BY person_title) AS titles
FROM article_entities
WHERE entity_type = 'person' AND registered_at IS NOT NULL
GROUP BY month, person
QUALIFY row_number() OVER (PARTITION BY month ORDER BY articles DESC, mentions DESC, person) <= 10
ORDER BY month, articles DESC, mentions DESC, person
