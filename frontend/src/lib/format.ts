/** Words and dates for what the API sends as codes and timestamps. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const timeWithSeconds = new Intl.DateTimeFormat(undefined, {
  dateStyle: "short",
  timeStyle: "medium",
});

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateOnly.format(d);
}

export function formatTimestamp(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : timeWithSeconds.format(d);
}

export const STATUS_LABELS: Record<string, string> = {
  pending: "Pending",
  confirmed: "Confirmed",
  shipped: "Shipped",
  delivered: "Delivered",
  cancelled: "Cancelled",
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? humanize(status);
}

export const CANCELLATION_REASONS: Record<string, string> = {
  out_of_stock: "Some items were out of stock.",
  payment_declined: "The payment was declined.",
  payment_timeout: "The payment did not go through in time.",
  cancelled_by_customer: "You cancelled this order.",
  cancelled_by_admin: "The shop cancelled this order.",
};

export function cancellationText(reason: string | null | undefined): string {
  if (!reason) return "";
  return CANCELLATION_REASONS[reason] ?? humanize(reason);
}

export const PAYMENT_STATUS: Record<string, string> = {
  pending: "Awaiting payment",
  authorized: "Authorized",
  captured: "Paid",
  declined: "Declined",
  refunded: "Refunded",
  nothing_to_pay: "Nothing to pay",
};

/** The simulated gateway's test cards (API.md, "Cart"). */
export const TEST_CARDS: { token: string; label: string; hint: string }[] = [
  { token: "pm_card_visa", label: "Visa •••• 4242", hint: "Succeeds" },
  { token: "pm_card_mastercard", label: "Mastercard •••• 4444", hint: "Succeeds" },
  { token: "pm_card_declined", label: "Visa •••• 0002", hint: "Declined by the bank" },
  { token: "pm_card_insufficient_funds", label: "Visa •••• 9995", hint: "Insufficient funds" },
  { token: "pm_card_slow", label: "Visa •••• 3220", hint: "Answers after 3 seconds" },
  { token: "pm_card_flaky", label: "Visa •••• 1629", hint: "Fails twice, then succeeds" },
];

export function cardLabel(token: string | null | undefined): string {
  if (!token) return "";
  return TEST_CARDS.find((c) => c.token === token)?.label ?? token;
}

/** `order_placed` / `OrderPlaced` → "Order placed". */
export function humanize(code: string): string {
  const words = code
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_.-]+/g, " ")
    .trim()
    .toLowerCase();
  return words ? words[0].toUpperCase() + words.slice(1) : code;
}

/** The first 8 characters of a UUID, for tables; the full id stays in a title attribute. */
export function shortId(id: string): string {
  return id.replace(/-/g, "").slice(-8).toUpperCase();
}

let regions: Intl.DisplayNames | null | undefined;

/** "DE" → "Germany" in the reader's language; the code itself when the browser cannot say. */
export function countryName(code: string): string {
  if (regions === undefined) {
    try {
      regions = new Intl.DisplayNames(undefined, { type: "region" });
    } catch {
      regions = null;
    }
  }
  try {
    return regions?.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
