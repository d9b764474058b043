import { useState, type FormEvent } from "react";
import { ApiError, errorMessage } from "../api/client";
import { createPromotion, endPromotion, listPromotions, pausePromotion, resumePromotion } from "../api/promotions";
import { isPromotionStatus, PROMOTION_STATUSES, type Promotion } from "../api/types";
import { Empty, ErrorNote, Loading, Pagination, StatusBadge, TextField } from "../components/ui";
import { formatDateTime, plural, statusLabel } from "../lib/format";
import { useTitle } from "../lib/page";
import {
  categoriesText,
  EMPTY_PROMOTION_FORM,
  limitsText,
  minimumText,
  offerText,
  problemField,
  serverPromotionErrors,
  toNewPromotion,
  validatePromotion,
  validityText,
  type PromotionFormErrors,
  type PromotionFormValues,
} from "../lib/promotion";
import { Link, navigate, useLocation } from "../lib/router";
import { useFetch } from "../lib/useFetch";
import { useToast } from "../store/toast";

function promotionsUrl(status: string, page: number): string {
  const params = new URLSearchParams();
  if (status) params.set("status", status);
  if (page > 1) params.set("page", String(page));
  const s = params.toString();
  return `/admin/promotions${s ? `?${s}` : ""}`;
}

export function AdminPromotionsPage() {
  const { query } = useLocation();
  const wanted = query.get("status");
  const status = isPromotionStatus(wanted) ? wanted : "";
  const page = Math.max(1, Number(query.get("page")) || 1);
  // The position of the last write (the new-promotion page's, or a pause, resume or end here), so the list
  // read after it includes it (read-your-writes).
  const [position, setPosition] = useState<string | undefined>(query.get("position") ?? undefined);
  const [version, setVersion] = useState(0);
  const list = useFetch(`${status}|${page}|${version}`, (signal) =>
    listPromotions({ status: status || undefined, page, limit: 25 }, { minPosition: position, signal }),
  );
  useTitle("Promotions · Back office");

  const reloadAt = (pos: string | null | undefined) => {
    setPosition(pos ?? undefined);
    setVersion((v) => v + 1);
  };

  const data = list.data;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Promotions</h1>
        <div className="row">
          <div className="field field-inline">
            <label htmlFor="promotion-status-filter">Status</label>
            <select
              id="promotion-status-filter"
              value={status}
              onChange={(e) => navigate(promotionsUrl(e.target.value, 1), { keepScroll: true })}
            >
              <option value="">All statuses</option>
              {PROMOTION_STATUSES.map((s) => <option key={s} value={s}>{statusLabel(s)}</option>)}
            </select>
          </div>
          <Link to="/admin/promotions/new" className="btn btn-primary">New promotion</Link>
        </div>
      </div>
      <ErrorNote error={list.error} onRetry={list.reload} />
      {!data && list.loading && <Loading />}
      {data && data.items.length === 0 && (
        <Empty title={status ? `No ${statusLabel(status).toLowerCase()} discount codes` : "No discount codes yet"}>
          {!status && <Link to="/admin/promotions/new" className="btn">Create the first one</Link>}
        </Empty>
      )}
      {data && data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table promotions">
            <caption className="visually-hidden">Discount codes</caption>
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col">Offer</th>
                <th scope="col" className="num">Minimum</th>
                <th scope="col">Valid</th>
                <th scope="col">Limits</th>
                <th scope="col" className="num">Redeemed</th>
                <th scope="col" className="num">Held</th>
                <th scope="col">Status</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((p) => <PromotionRow key={p.id} promotion={p} onDone={reloadAt} />)}
            </tbody>
          </table>
          <p className="muted small">
            {plural(data.total, "discount code")}. Redeemed counts confirmed orders; held, pending orders that
            reserved a use until they are confirmed or cancelled.
          </p>
        </div>
      )}
      {data && (
        <Pagination
          page={data.page}
          pages={data.pages}
          href={(n) => promotionsUrl(status, n)}
          onPage={(n) => navigate(promotionsUrl(status, n))}
        />
      )}
    </div>
  );
}

type Action = "pause" | "resume" | "end";

const ACTIONS: Record<Action, { call(id: string): Promise<{ position?: string | null }>; done: string; busy: string }> = {
  pause: { call: pausePromotion, done: "paused", busy: "Pausing…" },
  resume: { call: resumePromotion, done: "resumed", busy: "Resuming…" },
  end: { call: endPromotion, done: "ended", busy: "Ending…" },
};

/** One code: its terms, how often it was used, and what can be done at its status (ending asks first). */
function PromotionRow({ promotion: p, onDone }: { promotion: Promotion; onDone(position: string | null | undefined): void }) {
  const toast = useToast();
  const [busy, setBusy] = useState<Action | "">("");
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState("");

  async function act(action: Action) {
    setBusy(action);
    setError("");
    try {
      const { position } = await ACTIONS[action].call(p.id);
      toast(`${p.code} ${ACTIONS[action].done}`);
      setConfirming(false);
      onDone(position);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy("");
    }
  }

  const button = (action: Action, label: string, className = "btn btn-small") => (
    <button type="button" className={className} onClick={() => act(action)} disabled={!!busy} aria-label={`${label} ${p.code}`}>
      {busy === action ? ACTIONS[action].busy : label}
    </button>
  );
  return (
    <tr data-testid="promotion" data-code={p.code} data-status={p.status} aria-busy={!!busy}>
      <td>
        <code className="promotion-code">{p.code}</code>
        <span className="muted small block">created {formatDateTime(p.created_at)}</span>
      </td>
      <td>
        {offerText(p)}
        <span className="muted small block">{categoriesText(p.categories)}</span>
      </td>
      <td className="num">{minimumText(p.min_subtotal)}</td>
      <td>{validityText(p.valid_from, p.valid_until)}</td>
      <td>{limitsText(p.max_redemptions, p.max_per_customer)}</td>
      <td className="num" data-testid="redeemed">{p.redeemed}</td>
      <td className="num" data-testid="held">{p.held}</td>
      <td><StatusBadge status={p.status} /></td>
      <td className="promotion-actions">
        {confirming ? (
          <>
            <span className="small block">End it for good? It cannot be resumed.</span>
            {button("end", "Yes, end", "btn btn-small btn-danger")}
            <button type="button" className="btn btn-small btn-ghost" onClick={() => setConfirming(false)} disabled={!!busy}>
              Keep it
            </button>
          </>
        ) : (
          <>
            {p.status === "active" && button("pause", "Pause")}
            {p.status === "paused" && button("resume", "Resume")}
            {p.status !== "ended" && (
              <button
                type="button"
                className="btn btn-small btn-danger-outline"
                onClick={() => setConfirming(true)}
                disabled={!!busy}
                aria-label={`End ${p.code}`}
              >
                End…
              </button>
            )}
          </>
        )}
        {error && <p className="field-error" role="alert">{error}</p>}
      </td>
    </tr>
  );
}

export function NewPromotionPage() {
  const toast = useToast();
  const [values, setValues] = useState<PromotionFormValues>(EMPTY_PROMOTION_FORM);
  const [errors, setErrors] = useState<PromotionFormErrors>({});
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useTitle("New promotion · Back office");
  const set = (k: keyof PromotionFormValues) => (e: { target: { value: string } }) =>
    setValues((v) => ({ ...v, [k]: e.target.value }));

  async function submit(e: FormEvent) {
    e.preventDefault();
    const found = validatePromotion(values);
    setErrors(found);
    setError("");
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const body = toNewPromotion(values);
      const { position } = await createPromotion(body);
      toast(`Created ${body.code}`);
      navigate(`/admin/promotions${position ? `?position=${encodeURIComponent(position)}` : ""}`);
    } catch (err) {
      showRefusal(err);
      setBusy(false);
    }
  }

  /** A refusal next to the field it is about (a taken code, an offer out of range, ...), else above the button. */
  function showRefusal(err: unknown) {
    if (!(err instanceof ApiError)) {
      setError(errorMessage(err));
      return;
    }
    const { fields, other } = serverPromotionErrors(err.fieldErrors, values.kind);
    if (Object.keys(fields).length) {
      setErrors(fields);
      if (Object.keys(other).length) setError(Object.values(other).join(" "));
      return;
    }
    const field = problemField(err.status, err.code, values.kind);
    if (field) setErrors({ [field]: err.message });
    else setError(err.message);
  }

  const percent = values.kind === "percent";
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumb"><Link to="/admin/promotions">Promotions</Link></nav>
      <h1>New promotion</h1>
      <form className="panel form-grid promotion-form" onSubmit={submit} noValidate aria-label="New promotion">
        <TextField
          label="Code"
          name="code"
          className="field-wide"
          value={values.code}
          onChange={set("code")}
          error={errors.code}
          hint="3 to 32 letters, digits, '-' or '_'. Customers may type it in any case."
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          required
        />
        <fieldset className="field-wide offer">
          <legend>Offer</legend>
          <div className="row">
            <label className="check">
              <input type="radio" name="kind" value="percent" checked={percent} onChange={() => setValues((v) => ({ ...v, kind: "percent" }))} />
              Percentage off
            </label>
            <label className="check">
              <input type="radio" name="kind" value="amount" checked={!percent} onChange={() => setValues((v) => ({ ...v, kind: "amount" }))} />
              Fixed amount off
            </label>
          </div>
          {percent ? (
            <TextField key="percent" label="Percent" name="percent_off" inputMode="numeric" value={values.percent} onChange={set("percent")} error={errors.percent} placeholder="e.g. 10" />
          ) : (
            <TextField key="amount" label="Amount (EUR)" name="amount_off" inputMode="decimal" value={values.amount} onChange={set("amount")} error={errors.amount} placeholder="e.g. 5.00" />
          )}
        </fieldset>
        <TextField
          label="Minimum subtotal (EUR, optional)"
          name="min_subtotal"
          inputMode="decimal"
          value={values.minimum}
          onChange={set("minimum")}
          error={errors.minimum}
          hint="Before the discount."
        />
        <TextField
          label="Categories (optional)"
          name="categories"
          value={values.categories}
          onChange={set("categories")}
          error={errors.categories}
          hint="Comma-separated, e.g. Kitchen, Home. Empty: every category."
        />
        <TextField label="Valid from (optional)" name="valid_from" type="datetime-local" value={values.validFrom} onChange={set("validFrom")} error={errors.validFrom} hint="Your local time." />
        <TextField label="Valid until (optional)" name="valid_until" type="datetime-local" value={values.validUntil} onChange={set("validUntil")} error={errors.validUntil} hint="Your local time." />
        <TextField
          label="Max redemptions (optional)"
          name="max_redemptions"
          inputMode="numeric"
          value={values.maxRedemptions}
          onChange={set("maxRedemptions")}
          error={errors.maxRedemptions}
          hint="Uses in all, by every customer."
        />
        <TextField
          label="Max per customer (optional)"
          name="max_per_customer"
          inputMode="numeric"
          value={values.maxPerCustomer}
          onChange={set("maxPerCustomer")}
          error={errors.maxPerCustomer}
        />
        <div className="field-wide">
          <ErrorNote error={error} />
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Creating…" : "Create promotion"}
          </button>
        </div>
      </form>
    </div>
  );
}
