-- Every committed job event sends a hint, `<job id>:<seq>`, to the origins that LISTEN on
-- `overture_job_events`: only a hint (a notification carries at most 8000 bytes); each
-- origin reads the event rows themselves. A notification is delivered at commit, so a hint
-- never names an event that a rolled-back transaction wrote.
CREATE FUNCTION overture_job_event_hint() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('overture_job_events', NEW.job_id || ':' || NEW.seq);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER job_events_hint AFTER INSERT ON job_events
  FOR EACH ROW EXECUTE FUNCTION overture_job_event_hint();
