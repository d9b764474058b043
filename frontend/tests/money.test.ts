import { describe, expect, it } from "vitest";
import { formatDeduction, formatMoney, formatMoneyShort, majorToMinor, minorDigits, moneyInputValue, parseMoneyInput } from "../src/lib/money";

// Intl puts a no-break space (U+00A0) or narrow one (U+202F) between number and symbol in some locales.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");

describe("formatMoney", () => {
  it("formats minor units as the currency's major unit", () => {
    expect(formatMoney({ amount: 1999, currency: "EUR" }, "en-US")).toBe("€19.99");
    expect(formatMoney({ amount: 5, currency: "USD" }, "en-US")).toBe("$0.05");
    expect(formatMoney({ amount: 0, currency: "GBP" }, "en-GB")).toBe("£0.00");
  });

  it("follows the locale's conventions", () => {
    expect(plain(formatMoney({ amount: 123456, currency: "EUR" }, "de-DE"))).toBe("1.234,56 €");
    expect(plain(formatMoney({ amount: 123456, currency: "EUR" }, "fr-FR"))).toBe("1 234,56 €");
  });

  it("knows currencies without cents and with three decimals", () => {
    expect(minorDigits("JPY")).toBe(0);
    expect(formatMoney({ amount: 500, currency: "JPY" }, "en-US")).toBe("¥500");
    expect(minorDigits("KWD")).toBe(3);
    expect(plain(formatMoney({ amount: 1234, currency: "KWD" }, "en-US"))).toBe("KWD 1.234");
  });

  it("never shows floating point noise", () => {
    expect(formatMoney({ amount: 1010, currency: "EUR" }, "en-US")).toBe("€10.10");
    expect(formatMoney({ amount: 30, currency: "EUR" }, "en-US")).toBe("€0.30");
  });

  it("shows negative amounts", () => {
    expect(formatMoney({ amount: -250, currency: "EUR" }, "en-US")).toBe("-€2.50");
  });

  it("falls back to the code for a currency Intl rejects", () => {
    expect(formatMoney({ amount: 1999, currency: "EURO" }, "en-US")).toBe("19.99 EURO");
  });
});

describe("parseMoneyInput", () => {
  it("reads what people type into minor units", () => {
    expect(parseMoneyInput("19.99", "EUR")).toBe(1999);
    expect(parseMoneyInput("19,99", "EUR")).toBe(1999);
    expect(parseMoneyInput(" 20 ", "EUR")).toBe(2000);
    expect(parseMoneyInput("0.5", "EUR")).toBe(50);
    expect(parseMoneyInput("1 299.00", "EUR")).toBe(129900);
    expect(parseMoneyInput("0.10", "EUR")).toBe(10);
    expect(parseMoneyInput("500", "JPY")).toBe(500);
  });

  it("refuses what is not a non-negative amount in that currency", () => {
    for (const bad of ["", "abc", "-1", "19.999", "1.2.3", "€5", "1e3"]) {
      expect(parseMoneyInput(bad, "EUR"), bad).toBeNull();
    }
    expect(parseMoneyInput("5.5", "JPY")).toBeNull();
  });

  it("round-trips with moneyInputValue", () => {
    for (const amount of [0, 5, 50, 1999, 100000]) {
      expect(parseMoneyInput(moneyInputValue(amount, "EUR"), "EUR")).toBe(amount);
    }
    expect(moneyInputValue(1999, "EUR")).toBe("19.99");
    expect(moneyInputValue(7, "EUR")).toBe("0.07");
    expect(moneyInputValue(500, "JPY")).toBe("500");
  });
});

describe("formatMoneyShort and majorToMinor", () => {
  it("leave out a zero fraction, and only that", () => {
    expect(formatMoneyShort({ amount: 1000, currency: "EUR" }, "en-US")).toBe("€10");
    expect(formatMoneyShort({ amount: 1250, currency: "EUR" }, "en-US")).toBe("€12.50");
    expect(formatMoneyShort({ amount: 250, currency: "JPY" }, "en-US")).toBe("¥250");
    expect(plain(formatMoneyShort({ amount: 25000, currency: "EUR" }, "de-DE"))).toBe("250 €");
  });

  it("turn major units into minor ones without floating point noise", () => {
    expect(majorToMinor(10, "EUR")).toBe(1000);
    expect(majorToMinor(19.99, "EUR")).toBe(1999);
    expect(majorToMinor(250, "JPY")).toBe(250);
    expect(majorToMinor(1.234, "KWD")).toBe(1234);
  });
});

describe("formatDeduction", () => {
  it("puts a real minus sign before the amount taken off", () => {
    expect(formatDeduction({ amount: 125, currency: "EUR" }, "en-US")).toBe("\u2212€1.25");
    expect(plain(formatDeduction({ amount: 250, currency: "EUR" }, "de-DE"))).toBe("\u22122,50 €");
  });

  it("reads a negative amount the same way, never as two minuses", () => {
    expect(formatDeduction({ amount: -125, currency: "EUR" }, "en-US")).toBe("\u2212€1.25");
  });
});
