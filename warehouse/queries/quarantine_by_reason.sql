-- Quarantined rows by table and failed expectation, over every run, with the runs they came from.
SELECT
    q.table_name,
    q.expectation,
    count(*) AS rows,
    count(DISTINCT q.run_id) AS runs,
    max(r.started_at) AS last_seen
FROM (SELECT table_name, run_id, unnest(failed_expectations) AS expectation FROM quarantine) AS q
LEFT JOIN runs AS r USING (run_id)
GROUP BY q.table_name, q.expectation
ORDER BY rows DESC, q.table_name, q.expectation
