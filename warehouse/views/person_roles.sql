-- Who held which title where, as each article says: one row per (person, article) with a title; person_title
-- and person_org as in entities.
SELECT
    e.canonical AS person,
    e.person_org,
    e.person_title,
    e.article_id,
    a.title AS article_title,
    a.registered_at
FROM entities AS e
JOIN articles AS a USING (article_id)
WHERE e.entity_type = 'person' AND e.person_title IS NOT NULL
