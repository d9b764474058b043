/**
 * Discount codes in words for the back office's table, and the new-code form's rules: what it checks before
 * sending (the rules the server applies, so most mistakes are caught without a round trip) and how what was
 * typed becomes `POST /promotions`' body.
 */
import type { Money, NewPromotion, Promotion } from "../api/types";
import { sentence } from "./address";
import { formatDateTime } from "./format";
import { formatMoney, parseMoneyInput } from "./money";

/** The shop sells in euros: amounts typed into the form are euros. */
export const PROMOTION_CURRENCY = "EUR";

/** The server's rule for a code: 3 to 32 of A-Z, 0-9, '-' and '_', in any case (it stores it upper case). */
const CODE = /^[A-Za-z0-9_-]{3,32}$/;

// --- in words ----------------------------------------------------------------------------------------------

/** What a code takes off: "10 %" or "€5.00 off". */
export function offerText(offer: Pick<Promotion, "percent_off" | "amount_off">, locale?: string): string {
  if (offer.percent_off != null) return `${offer.percent_off} %`;
  if (offer.amount_off) return `${formatMoney(offer.amount_off, locale)} off`;
  return "—";
}

/** The smallest subtotal a code applies to: "€20.00", or "None". */
export function minimumText(minimum: Money | null | undefined, locale?: string): string {
  return minimum ? formatMoney(minimum, locale) : "None";
}

/** When a code can be used: "Always", "From …", "Until …" or "… – …", in the reader's time zone. */
export function validityText(from: string | null | undefined, until: string | null | undefined): string {
  if (from && until) return `${formatDateTime(from)} – ${formatDateTime(until)}`;
  if (from) return `From ${formatDateTime(from)}`;
  if (until) return `Until ${formatDateTime(until)}`;
  return "Always";
}

/** How often a code can be used: "100 in all, 1 per customer", "1 per customer", or "No limit". */
export function limitsText(maxRedemptions: number | null | undefined, maxPerCustomer: number | null | undefined): string {
  const parts: string[] = [];
  if (maxRedemptions != null) parts.push(`${maxRedemptions} in all`);
  if (maxPerCustomer != null) parts.push(`${maxPerCustomer} per customer`);
  return parts.length ? parts.join(", ") : "No limit";
}

/** The categories a code is limited to: "Kitchen and Home only", or "Every category". */
export function categoriesText(categories: readonly string[] | null | undefined): string {
  if (!categories?.length) return "Every category";
  const list =
    categories.length === 1 ? categories[0] : `${categories.slice(0, -1).join(", ")} and ${categories[categories.length - 1]}`;
  return `${list} only`;
}

// --- the new-code form -------------------------------------------------------------------------------------

/** What the form holds: text as typed; `validFrom` and `validUntil` are `datetime-local` values (local time). */
export interface PromotionFormValues {
  code: string;
  kind: "percent" | "amount";
  percent: string;
  amount: string;
  minimum: string;
  validFrom: string;
  validUntil: string;
  maxRedemptions: string;
  maxPerCustomer: string;
  /** Comma-separated. */
  categories: string;
}

export type PromotionField = keyof PromotionFormValues;
export type PromotionFormErrors = Partial<Record<PromotionField, string>>;

export const EMPTY_PROMOTION_FORM: PromotionFormValues = {
  code: "",
  kind: "percent",
  percent: "",
  amount: "",
  minimum: "",
  validFrom: "",
  validUntil: "",
  maxRedemptions: "",
  maxPerCustomer: "",
  categories: "",
};

/** A `datetime-local` value ("2026-03-01T09:30", the reader's local time) → RFC 3339 in UTC; null if not one. */
export function localDateTimeToRfc3339(value: string): string | null {
  const text = value.trim();
  // Only the input's own form: `new Date` would also take "March 1" and guess.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(text)) return null;
  const date = new Date(text); // without an offset, ECMAScript reads a date-time as local time
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** "10", "10 %" or "10%" → 10; null unless a whole number. */
function parsePercent(raw: string): number | null {
  const text = raw.trim().replace(/\s*%$/, "");
  return /^\d{1,3}$/.test(text) ? Number(text) : null;
}

/** An optional whole number of at least 1: `undefined` when left empty, null when not one. */
function parseLimit(raw: string): number | null | undefined {
  const text = raw.trim();
  if (!text) return undefined;
  return /^\d+$/.test(text) && Number(text) >= 1 && Number.isSafeInteger(Number(text)) ? Number(text) : null;
}

/** "Kitchen, home ,, Kitchen" → ["Kitchen", "home"]: trimmed, empties and repeats left out. */
export function parseCategories(raw: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const part of raw.split(",")) {
    const name = part.trim();
    if (name && !seen.has(name.toLowerCase())) {
      seen.add(name.toLowerCase());
      out.push(name);
    }
  }
  return out;
}

/** The form's problems, field by field (none: it can be sent). */
export function validatePromotion(v: PromotionFormValues): PromotionFormErrors {
  const e: PromotionFormErrors = {};
  if (!CODE.test(v.code.trim())) e.code = "Use 3 to 32 letters, digits, '-' or '_'.";
  if (v.kind === "percent") {
    const percent = parsePercent(v.percent);
    if (percent === null || percent < 1 || percent > 100) e.percent = "Enter a whole percentage from 1 to 100.";
  } else {
    const amount = parseMoneyInput(v.amount, PROMOTION_CURRENCY);
    if (amount === null) e.amount = "Enter an amount such as 5.00.";
    else if (amount === 0) e.amount = "Enter an amount above zero.";
  }
  if (v.minimum.trim() && parseMoneyInput(v.minimum, PROMOTION_CURRENCY) === null) {
    e.minimum = "Enter an amount such as 20.00, or leave it empty.";
  }
  const from = v.validFrom.trim() ? localDateTimeToRfc3339(v.validFrom) : undefined;
  const until = v.validUntil.trim() ? localDateTimeToRfc3339(v.validUntil) : undefined;
  if (from === null) e.validFrom = "Enter a date and time, or leave it empty.";
  if (until === null) e.validUntil = "Enter a date and time, or leave it empty.";
  if (from && until && Date.parse(until) <= Date.parse(from)) e.validUntil = "The end must come after the start.";
  if (parseLimit(v.maxRedemptions) === null) e.maxRedemptions = "Enter a whole number, 1 or more, or leave it empty.";
  if (parseLimit(v.maxPerCustomer) === null) e.maxPerCustomer = "Enter a whole number, 1 or more, or leave it empty.";
  return e;
}

/**
 * The body of `POST /promotions` for a form that `validatePromotion` passed: the code upper case (as the server
 * keeps it), exactly one of `percent_off` and `amount_off`, and what was left empty left out.
 */
export function toNewPromotion(v: PromotionFormValues): NewPromotion {
  const body: NewPromotion = { code: v.code.trim().toUpperCase() };
  if (v.kind === "percent") body.percent_off = parsePercent(v.percent) ?? undefined;
  else body.amount_off = { amount: parseMoneyInput(v.amount, PROMOTION_CURRENCY) ?? 0, currency: PROMOTION_CURRENCY };
  const minimum = v.minimum.trim() ? parseMoneyInput(v.minimum, PROMOTION_CURRENCY) : null;
  if (minimum !== null) body.min_subtotal = { amount: minimum, currency: PROMOTION_CURRENCY };
  const from = localDateTimeToRfc3339(v.validFrom);
  if (from) body.valid_from = from;
  const until = localDateTimeToRfc3339(v.validUntil);
  if (until) body.valid_until = until;
  const maxRedemptions = parseLimit(v.maxRedemptions);
  if (maxRedemptions) body.max_redemptions = maxRedemptions;
  const maxPerCustomer = parseLimit(v.maxPerCustomer);
  if (maxPerCustomer) body.max_per_customer = maxPerCustomer;
  const categories = parseCategories(v.categories);
  if (categories.length) body.categories = categories;
  return body;
}

/** The body's keys (dotted for a part, `amount_off.amount`) → the form's fields. */
const SERVER_FIELDS: [RegExp, PromotionField][] = [
  [/^code$/, "code"],
  [/^percent_off\b/, "percent"],
  [/^amount_off\b/, "amount"],
  [/^min_subtotal\b/, "minimum"],
  [/^valid_from$/, "validFrom"],
  [/^valid_until$/, "validUntil"],
  [/^max_redemptions$/, "maxRedemptions"],
  [/^max_per_customer$/, "maxPerCustomer"],
  [/^categories\b/, "categories"],
];

/**
 * A refusal's `errors` map next to the fields it names; what names no field stays in `other`. A message about
 * the offer goes to the input the form shows (percent or amount), whichever key the server used.
 */
export function serverPromotionErrors(
  errors: Record<string, string>,
  kind: PromotionFormValues["kind"],
): { fields: PromotionFormErrors; other: Record<string, string> } {
  const fields: PromotionFormErrors = {};
  const other: Record<string, string> = {};
  for (const [key, message] of Object.entries(errors)) {
    const field = SERVER_FIELDS.find(([pattern]) => pattern.test(key))?.[1];
    if (field === "percent" || field === "amount") fields[kind] = sentence(message);
    else if (field) fields[field] = sentence(message);
    else other[key] = sentence(message);
  }
  return { fields, other };
}

/**
 * The field a refusal without an `errors` map is about, by its problem type (a 409 is always the code, taken);
 * undefined when it is about the promotion as a whole.
 */
export function problemField(
  status: number,
  code: string,
  kind: PromotionFormValues["kind"],
): PromotionField | undefined {
  if (status === 409 || code === "invalid_discount_code" || code.endsWith("_taken")) return "code";
  if (code === "invalid_discount") return kind;
  if (code === "invalid_validity") return "validUntil";
  return undefined;
}
