1: CREATE SCHEMA IF NOT EXISTS "facts"
2: CREATE TABLE IF NOT EXISTS "facts"."visits_daily" ("bucket" TIMESTAMP NOT NULL, "campaign_id" INTEGER, "visits" BIGINT, "avg_duration_ms" DOUBLE PRECISION, "avg_duration_ms_sum" DOUBLE PRECISION, "avg_duration_ms_count" BIGINT, "max_revenue" DECIMAL(38,2)) DISTSTYLE AUTO SORTKEY ("bucket")
3: LOCK "facts"."visits_daily"
4: DELETE FROM "facts"."visits_daily" WHERE bucket >= '2026-11-20 00:00:00'::timestamp AND bucket < '2026-11-21 00:00:00'::timestamp
5: INSERT INTO "facts"."visits_daily" ("bucket", "campaign_id", "visits", "avg_duration_ms", "avg_duration_ms_sum", "avg_duration_ms_count", "max_revenue") SELECT DATE_TRUNC('day', "bucket") AS bucket, "campaign_id", SUM("visits"), SUM("avg_duration_ms_sum") / NULLIF(SUM("avg_duration_ms_count"), 0), SUM("avg_duration_ms_sum"), SUM("avg_duration_ms_count"), MAX("revenue") FROM "facts"."visits_hourly" WHERE "bucket" >= '2026-11-20 00:00:00'::timestamp AND "bucket" < '2026-11-21 00:00:00'::timestamp GROUP BY DATE_TRUNC('day', "bucket"), "campaign_id"
6: CREATE SCHEMA IF NOT EXISTS "facts"
7: CREATE TABLE IF NOT EXISTS "facts"."big_spenders_hourly" ("bucket" TIMESTAMP NOT NULL, "spenders" BIGINT) DISTSTYLE AUTO SORTKEY ("bucket")
8: LOCK "facts"."big_spenders_hourly"
9: DELETE FROM "facts"."big_spenders_hourly" WHERE bucket >= '2026-11-20 10:00:00'::timestamp AND bucket < '2026-11-21 00:00:00'::timestamp
10: INSERT INTO "facts"."big_spenders_hourly" ("bucket", "spenders") SELECT DATE_TRUNC('hour', visited_at) AS bucket, COUNT(*) AS spenders FROM events.visits WHERE visited_at >= '2026-11-20 10:00:00'::timestamp AND visited_at < '2026-11-21 00:00:00'::timestamp AND revenue > 100 GROUP BY 1
