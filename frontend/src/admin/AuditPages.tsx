import { useEffect, useState, type FormEvent } from "react";
import { getStream, listEvents, verifyAuditLog } from "../api/audit";
import { errorMessage } from "../api/client";
import type { AuditReport, BrokenLink, StoredEvent } from "../api/types";
import { Empty, ErrorNote, Loading, TextField } from "../components/ui";
import { formatTimestamp, humanize, plural, shortId } from "../lib/format";
import { useTitle } from "../lib/page";
import { Link, navigate, useLocation } from "../lib/router";
import { useFetch } from "../lib/useFetch";

const AGGREGATE_TYPES = ["user", "product", "cart", "order", "payment"];
const FEED_PAGE = 50;

interface FeedFilter {
  aggregate_type: string;
  event_type: string;
  user_id: string;
}

function feedUrl(filter: FeedFilter, after?: string): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v) params.set(k, v);
  if (after) params.set("after", after);
  const s = params.toString();
  return `/admin/audit${s ? `?${s}` : ""}`;
}

/** The global feed with filters, paged forward with `after`/`next`, and the chain check. */
export function AuditPage() {
  const { query, search } = useLocation();
  const filter: FeedFilter = {
    aggregate_type: query.get("aggregate_type") ?? "",
    event_type: query.get("event_type") ?? "",
    user_id: query.get("user_id") ?? "",
  };
  const after = query.get("after") ?? "";
  const [draft, setDraft] = useState(filter);
  useEffect(() => setDraft(filter), [filter.aggregate_type, filter.event_type, filter.user_id]);
  // The `after` tokens of the pages before this one, so "Previous" can go back.
  const [trail, setTrail] = useState<string[]>([]);
  const feed = useFetch(search, (signal) => listEvents({ ...filter, after, limit: FEED_PAGE }, { signal }));
  useTitle("Audit log · Back office");

  function applyFilter(e: FormEvent) {
    e.preventDefault();
    setTrail([]);
    navigate(feedUrl({ aggregate_type: draft.aggregate_type, event_type: draft.event_type.trim(), user_id: draft.user_id.trim() }), { keepScroll: true });
  }

  const data = feed.data;
  const full = (data?.items.length ?? 0) >= FEED_PAGE;
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Audit log</h1>
          <p className="muted">Every event in the store, in the order it was recorded. Each event's hash chains it to the one before.</p>
        </div>
      </div>
      <VerifyPanel />
      <form className="panel filter-bar" onSubmit={applyFilter} aria-label="Filter events">
        <div className="field">
          <label htmlFor="audit-aggregate">Aggregate</label>
          <select id="audit-aggregate" value={draft.aggregate_type} onChange={(e) => setDraft({ ...draft, aggregate_type: e.target.value })}>
            <option value="">All</option>
            {AGGREGATE_TYPES.map((t) => <option key={t} value={t}>{humanize(t)}</option>)}
          </select>
        </div>
        <TextField label="Event type" name="event_type" placeholder="e.g. OrderPlaced" value={draft.event_type} onChange={(e) => setDraft({ ...draft, event_type: e.target.value })} />
        <TextField label="User id" name="user_id" placeholder="UUID" value={draft.user_id} onChange={(e) => setDraft({ ...draft, user_id: e.target.value })} />
        <div className="filter-actions">
          <button type="submit" className="btn">Filter</button>
          {(filter.aggregate_type || filter.event_type || filter.user_id) && (
            <Link to="/admin/audit" className="btn btn-ghost" onClick={() => setTrail([])}>Clear</Link>
          )}
        </div>
      </form>
      <ErrorNote error={feed.error} onRetry={feed.reload} />
      {!data && feed.loading && <Loading label="Loading events…" />}
      {data && data.items.length === 0 && <Empty title={after ? "No more events" : "No events match"} />}
      {data && data.items.length > 0 && <EventList events={data.items} showStream />}
      {data && (after || full) && (
        <nav className="pagination" aria-label="Event pages">
          <button
            type="button"
            className="btn btn-ghost"
            disabled={!after}
            onClick={() => {
              const previous = trail[trail.length - 1];
              setTrail(trail.slice(0, -1));
              navigate(feedUrl(filter, previous || undefined));
            }}
          >
            ‹ Previous
          </button>
          <button
            type="button"
            className="btn btn-ghost"
            disabled={!full}
            onClick={() => {
              setTrail([...trail, after]);
              navigate(feedUrl(filter, data.next));
            }}
          >
            Next ›
          </button>
        </nav>
      )}
    </div>
  );
}

/** Runs GET /admin/audit/verify on demand and says whether the hash chain is intact. */
function VerifyPanel() {
  const [report, setReport] = useState<AuditReport>();
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  async function verify() {
    setBusy(true);
    setError("");
    try {
      setReport(await verifyAuditLog());
    } catch (e) {
      setReport(undefined);
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="panel verify" aria-labelledby="verify-heading">
      <div className="verify-head">
        <div>
          <h2 id="verify-heading">Integrity</h2>
          <p className="muted small">Recomputes every event's hash and checks each link of the chain.</p>
        </div>
        <button type="button" className="btn btn-primary" onClick={verify} disabled={busy}>
          {busy ? "Verifying…" : "Verify the chain"}
        </button>
      </div>
      <div aria-live="polite" data-testid="verify-result">
        {report && report.ok && (
          <p className="verify-ok" data-ok="true">
            <span aria-hidden="true">✓</span> Chain intact: {plural(report.checked, "event")} checked, none broken.
          </p>
        )}
        {report && !report.ok && (
          <div className="verify-broken" data-ok="false">
            <p>
              <span aria-hidden="true">✗</span> Chain broken: {plural(report.broken.length, "problem")} in {plural(report.checked, "event")} checked.
            </p>
            <ul>
              {report.broken.map((b) => (
                <li key={`${b.aggregate_type}/${b.aggregate_id}#${b.sequence}`}>
                  <BrokenPlace link={b} />: {b.reason}
                </li>
              ))}
            </ul>
          </div>
        )}
        {error && <ErrorNote error={error} />}
      </div>
    </section>
  );
}

/** Where a broken link is: its stream and sequence, and the feed position when the event is still there. */
function BrokenPlace({ link }: { link: BrokenLink }) {
  return (
    <>
      <Link to={`/admin/audit/${encodeURIComponent(link.aggregate_type)}/${encodeURIComponent(link.aggregate_id)}`}>
        {link.aggregate_type} {shortId(link.aggregate_id)}
      </Link>{" "}
      #{link.sequence}
      {link.position === null || link.position === undefined ? (
        " (event gone)"
      ) : (
        <>
          {" "}at position <code>{link.position}</code>
        </>
      )}
    </>
  );
}

/** Who caused an event, when its metadata says (`metadata` is a free-form object in the API), else the system. */
function Actor({ event }: { event: StoredEvent }) {
  const userId = event.metadata.user_id;
  if (typeof userId !== "string" || !userId) return <>by system</>;
  return (
    <Link to={feedUrl({ aggregate_type: "", event_type: "", user_id: userId })} title={userId} onClick={(ev) => ev.stopPropagation()}>
      by {shortId(userId)}
    </Link>
  );
}

function EventList({ events, showStream = false }: { events: StoredEvent[]; showStream?: boolean }) {
  return (
    <ol className="events" data-testid="events">
      {events.map((e) => (
        <li key={e.event_id} className="event">
          <details>
            <summary>
              <span className="event-type">
                <span className="event-position" title="Position in the store">{e.position}</span>
                {e.event_type}
              </span>
              <span className="event-meta">
                {showStream ? (
                  <Link to={`/admin/audit/${encodeURIComponent(e.aggregate_type)}/${encodeURIComponent(e.aggregate_id)}`} title={e.aggregate_id} onClick={(ev) => ev.stopPropagation()}>
                    {e.aggregate_type} {shortId(e.aggregate_id)}
                  </Link>
                ) : (
                  <span>#{e.sequence}</span>
                )}
                <span title="Who">
                  <Actor event={e} />
                </span>
                <time dateTime={e.recorded_at}>{formatTimestamp(e.recorded_at)}</time>
              </span>
            </summary>
            <div className="event-body">
              <dl className="specs">
                <dt>Position</dt>
                <dd><code>{e.position}</code></dd>
                <dt>Stream</dt>
                <dd><code>{e.aggregate_type}/{e.aggregate_id}</code> #{e.sequence}</dd>
                <dt>Version</dt>
                <dd>{e.event_version}</dd>
                <dt>Hash</dt>
                <dd><code className="hash">{e.hash}</code></dd>
              </dl>
              <h3>Payload</h3>
              <pre>{JSON.stringify(e.payload, null, 2)}</pre>
              <h3>Metadata</h3>
              <pre>{JSON.stringify(e.metadata, null, 2)}</pre>
            </div>
          </details>
        </li>
      ))}
    </ol>
  );
}

export function StreamPage({ type, id }: { type: string; id: string }) {
  const stream = useFetch(`${type}/${id}`, (signal) => getStream(type, id, { signal }));
  useTitle(`${humanize(type)} ${shortId(id)} · Audit log`);
  const [lookup, setLookup] = useState({ type, id });
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumb"><Link to="/admin/audit">Audit log</Link></nav>
      <h1>
        {humanize(type)} <code>{id}</code>
      </h1>
      <form
        className="panel filter-bar"
        aria-label="Open another stream"
        onSubmit={(e) => {
          e.preventDefault();
          if (lookup.id.trim()) navigate(`/admin/audit/${encodeURIComponent(lookup.type)}/${encodeURIComponent(lookup.id.trim())}`);
        }}
      >
        <div className="field">
          <label htmlFor="stream-type">Aggregate</label>
          <select id="stream-type" value={lookup.type} onChange={(e) => setLookup({ ...lookup, type: e.target.value })}>
            {AGGREGATE_TYPES.map((t) => <option key={t} value={t}>{humanize(t)}</option>)}
          </select>
        </div>
        <TextField label="Id" name="stream-id" value={lookup.id} onChange={(e) => setLookup({ ...lookup, id: e.target.value })} />
        <div className="filter-actions"><button type="submit" className="btn">Open</button></div>
      </form>
      <ErrorNote error={stream.error} onRetry={stream.reload} />
      {!stream.data && stream.loading && <Loading label="Loading events…" />}
      {stream.data && (
        <>
          <p className="muted">{plural(stream.data.items.length, "event")}, oldest first.</p>
          <EventList events={stream.data.items} />
        </>
      )}
    </div>
  );
}
