-- Entities mentioned in the same article, each unordered pair once (entity_a sorts before entity_b).
SELECT
    a.article_id,
    a.entity_type AS type_a,
    a.canonical AS entity_a,
    b.entity_type AS type_b,
    b.canonical AS entity_b,
    art.registered_at
FROM entities AS a
JOIN entities AS b
    ON a.article_id = b.article_id
    AND (a.entity_type < b.entity_type OR (a.entity_type = b.entity_type AND a.canonical < b.canonical))
JOIN articles AS art ON art.article_id = a.article_id
