-- Peak resident memory of a job's process group, sampled while it ran (KiB).
ALTER TABLE job_runs ADD COLUMN peak_rss_kb INTEGER;
