-- Every entity with its article's site, section, title and times: the table to slice mentions by time.
SELECT
    e.article_id,
    e.entity_type,
    e.canonical,
    e.text,
    e.mention_count,
    e.first_offset,
    e.person_title,
    e.person_org,
    a.site,
    a.section,
    a.subsection,
    a.title AS article_title,
    a.registered_at,
    a.capture_date
FROM entities AS e
JOIN articles AS a USING (article_id)
