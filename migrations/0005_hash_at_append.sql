-- The command bus now computes each event's audit hash itself (it loaded the stream's last hash anyway) and
-- inserts event_id, recorded_at and hash explicitly; see docs/adr/0001. The trigger stays for rows inserted
-- without a hash (postgres-es's own repository, tools), and no longer runs at all for the others.

DROP TRIGGER events_chain ON events;

CREATE TRIGGER events_chain
    BEFORE INSERT
    ON events
    FOR EACH ROW
    WHEN (NEW.hash = ''::bytea)
EXECUTE FUNCTION events_chain();
