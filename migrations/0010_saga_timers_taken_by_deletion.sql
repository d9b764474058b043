-- A payment deadline's timer is now deleted when it is taken (saga/src/timers.rs), so that the table holds
-- only the timers still to fire; it used to be kept, marked fired, one row per order for ever. The rows of
-- timers fired before are of no use.
DELETE FROM saga_timers WHERE fired;
