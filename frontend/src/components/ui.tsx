/** Small shared pieces: states (loading, empty, error), fields with their errors, prices, badges, paging. */
import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from "react";
import { errorMessage } from "../api/client";
import { pageWindow } from "../lib/catalogQuery";
import { statusLabel } from "../lib/format";
import { formatDeduction, formatMoney, type Money } from "../lib/money";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

/** An error in plain words (from problem+json `detail`), with an optional retry. */
export function ErrorNote({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div className="alert alert-error" role="alert">
      <span>{typeof error === "string" ? error : errorMessage(error)}</span>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** A formatted amount; without one, `missing` (e.g. "Price unavailable") or nothing. */
export function Price({
  money,
  className,
  missing,
}: {
  money: Money | null | undefined;
  className?: string;
  missing?: string;
}) {
  if (!money) {
    return missing ? <span className={`${className ?? "price"} price-missing`}>{missing}</span> : null;
  }
  return <span className={className ?? "price"}>{formatMoney(money)}</span>;
}

/** An amount taken off, such as a discount: "−€2.50". */
export function Deduction({ money, className }: { money: Money; className?: string }) {
  return <span className={className ?? "price price-deduction"}>{formatDeduction(money)}</span>;
}

/** What a product without a price shows instead of one; such a product cannot be added to the cart. */
export const NO_PRICE = "Price unavailable";

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      {statusLabel(status)}
    </span>
  );
}

/** Stock in words: "In stock", "Only 3 left", "Out of stock". */
export function Availability({ available }: { available: number }) {
  if (available <= 0) return <span className="stock stock-out">Out of stock</span>;
  if (available <= 5) return <span className="stock stock-low">Only {available} left</span>;
  return <span className="stock stock-in">In stock</span>;
}

interface FieldProps {
  label: string;
  error?: string;
  hint?: string;
  children: (props: { id: string; "aria-invalid": boolean; "aria-describedby"?: string }) => ReactNode;
  className?: string;
}

/** A label, the control, and its error right under it, tied together for screen readers. */
export function Field({ label, error, hint, children, className }: FieldProps) {
  const id = useId();
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div className={`field${error ? " field-invalid" : ""}${className ? ` ${className}` : ""}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, "aria-invalid": !!error, "aria-describedby": described || undefined })}
      {hint && !error && (
        <p className="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

export function TextField({
  label,
  error,
  hint,
  className,
  ...input
}: { label: string; error?: string; hint?: string; className?: string } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <Field label={label} error={error} hint={hint} className={className}>
      {(a11y) => <input {...input} {...a11y} />}
    </Field>
  );
}

export function SelectField({
  label,
  error,
  hint,
  className,
  children,
  ...select
}: {
  label: string;
  error?: string;
  hint?: string;
  className?: string;
  children: ReactNode;
} & SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <Field label={label} error={error} hint={hint} className={className}>
      {(a11y) => (
        <select {...select} {...a11y}>
          {children}
        </select>
      )}
    </Field>
  );
}

/** Previous / numbers / next; `href` makes real links (for URL-kept state), `onPage` buttons. */
export function Pagination({
  page,
  pages,
  href,
  onPage,
  label = "Pages",
}: {
  page: number;
  pages: number;
  href?: (page: number) => string;
  onPage: (page: number) => void;
  label?: string;
}) {
  if (pages <= 1) return null;
  const item = (p: number, text: ReactNode, aria?: string, disabled = false) => {
    const current = p === page && typeof text === "number";
    if (disabled) {
      return (
        <span className="page-link disabled" aria-disabled="true">
          {text}
        </span>
      );
    }
    return (
      <a
        className={`page-link${current ? " current" : ""}`}
        href={href ? href(p) : "#"}
        aria-label={aria}
        aria-current={current ? "page" : undefined}
        onClick={(e) => {
          if (e.metaKey || e.ctrlKey || e.shiftKey) return;
          e.preventDefault();
          onPage(p);
        }}
      >
        {text}
      </a>
    );
  };
  return (
    <nav className="pagination" aria-label={label}>
      {item(page - 1, "‹ Previous", "Previous page", page <= 1)}
      {pageWindow(page, pages).map((p, i) =>
        p === null ? (
          <span key={`gap-${i}`} className="page-gap" aria-hidden="true">
            …
          </span>
        ) : (
          <span key={p}>{item(p, p, `Page ${p}`)}</span>
        ),
      )}
      {item(page + 1, "Next ›", "Next page", page >= pages)}
    </nav>
  );
}

/**
 * A product's stand-in picture, for a product without images (and in the cart): a tile in a colour derived
 * from its SKU with its initials: stable, distinct, and cheap (no image requests).
 */
export function ProductArt({ name, sku, size = "card" }: { name: string; sku: string; size?: "card" | "large" | "thumb" }) {
  let hash = 0;
  for (const ch of sku) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const hue = hash % 360;
  const initials = name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]?.toUpperCase())
    .join("");
  return (
    <div
      className={`art art-${size}`}
      style={{
        background: `linear-gradient(135deg, hsl(${hue} 70% 88%), hsl(${(hue + 40) % 360} 60% 72%))`,
        color: `hsl(${hue} 45% 28%)`,
      }}
      aria-hidden="true"
    >
      <span>{initials}</span>
    </div>
  );
}
