/** The event log, for administrators: the feed, one stream, and the check of the hash chain. */
import { get, segment, type Answer, type Query, type ReadOptions } from "./client";

export type EventsQuery = Query<"list_events">;

/** `GET /admin/events`: the events of every stream in store order, filtered; page on with `after` = `next`. */
export function listEvents(query: EventsQuery = {}, options: ReadOptions = {}): Promise<Answer<"list_events">> {
  return get<Answer<"list_events">>("/admin/events", { ...options, query });
}

/** `GET /admin/streams/{aggregate_type}/{aggregate_id}`: one aggregate's events by sequence. */
export function getStream(aggregateType: string, aggregateId: string, options: ReadOptions = {}): Promise<Answer<"get_stream">> {
  return get<Answer<"get_stream">>(`/admin/streams/${segment(aggregateType)}/${segment(aggregateId)}`, options);
}

/** `GET /admin/audit/verify`: recomputes every event's hash and every seal. */
export function verifyAuditLog(options: ReadOptions = {}): Promise<Answer<"verify_audit_log">> {
  return get<Answer<"verify_audit_log">>("/admin/audit/verify", options);
}
