-- Who held which title where, as each article says: one row per (person, article) with a title.
SELECT
    e.canonical AS person,
    e.person_org AS organisation,
    e.person_title AS title,
    e.article_id,
    a.title AS article_title,
    a.registered_at
FROM entities AS e
JOIN articles AS a USING (article_id)
WHERE e.entity_type = 'person' AND e.person_title IS NOT NULL
