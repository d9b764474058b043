/** Money as the API sends it: `amount` in the currency's minor units (cents), never a float on the wire. */
import type { Money } from "../api/types";

export type { Money };

const formatters = new Map<string, Intl.NumberFormat | null>();

function formatter(currency: string, locale?: string, whole = false): Intl.NumberFormat | null {
  const key = `${locale ?? ""}|${currency}|${whole}`;
  let f = formatters.get(key);
  if (f === undefined) {
    try {
      f = new Intl.NumberFormat(locale, { style: "currency", currency, ...(whole && { minimumFractionDigits: 0 }) });
    } catch {
      f = null; // not a currency code Intl knows
    }
    formatters.set(key, f);
  }
  return f;
}

/** How many minor units a currency has (2 for EUR, 0 for JPY, 3 for KWD); 2 when Intl does not know it. */
export function minorDigits(currency: string): number {
  return formatter(currency, "en")?.resolvedOptions().maximumFractionDigits ?? 2;
}

/** `{amount: 1999, currency: "EUR"}` → "€19.99" (en-US) or "19,99 €" (de-DE). */
export function formatMoney(money: Money, locale?: string): string {
  const digits = minorDigits(money.currency);
  const major = money.amount / 10 ** digits;
  const f = formatter(money.currency, locale);
  if (f) return f.format(major);
  return `${major.toFixed(digits)} ${money.currency}`;
}

/**
 * An amount taken off, with a real minus sign (U+2212) whatever the amount's own sign: a discount of
 * `{amount: 125, currency: "EUR"}` → "−€1.25" (en-US).
 */
export function formatDeduction(money: Money, locale?: string): string {
  return `\u2212${formatMoney({ ...money, amount: Math.abs(money.amount) }, locale)}`;
}

/** A whole or decimal amount in major units (12.5 euros) → minor units (1250), rounded to the nearest one. */
export function majorToMinor(major: number, currency: string): number {
  return Math.round(major * 10 ** minorDigits(currency));
}

/** Like `formatMoney`, but a whole amount has no fraction ("€10", yet "€12.50"): for labels such as price ranges. */
export function formatMoneyShort(money: Money, locale?: string): string {
  const whole = money.amount % 10 ** minorDigits(money.currency) === 0;
  if (!whole) return formatMoney(money, locale);
  const major = money.amount / 10 ** minorDigits(money.currency);
  return formatter(money.currency, locale, true)?.format(major) ?? `${major} ${money.currency}`;
}

/**
 * Parses what a person typed as a price ("19.99", "19,99", "1 299", "20") into minor units without going
 * through floating point. Returns null for anything that is not a non-negative amount with at most the
 * currency's number of decimals.
 */
export function parseMoneyInput(raw: string, currency: string): number | null {
  const digits = minorDigits(currency);
  const text = raw.trim().replace(/[\s\u00a0']/g, "");
  const match = /^(\d+)(?:[.,](\d*))?$/.exec(text);
  if (!match) return null;
  const [, whole, fraction = ""] = match;
  if (fraction.length > digits) return null;
  const minor = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
  return Number.isSafeInteger(minor) ? minor : null;
}

/** Minor units → the plain decimal text an input shows ("19.99"), the inverse of `parseMoneyInput`. */
export function moneyInputValue(amount: number, currency: string): string {
  const digits = minorDigits(currency);
  if (digits === 0) return String(amount);
  const scale = 10 ** digits;
  const whole = Math.trunc(amount / scale);
  const fraction = String(Math.abs(amount % scale)).padStart(digits, "0");
  return `${whole}.${fraction}`;
}
