import { describe, expect, it } from "vitest";
import { formatDateTime } from "../src/lib/format";
import {
  categoriesText,
  EMPTY_PROMOTION_FORM,
  limitsText,
  localDateTimeToRfc3339,
  minimumText,
  offerText,
  parseCategories,
  problemField,
  serverPromotionErrors,
  toNewPromotion,
  validatePromotion,
  validityText,
  type PromotionFormValues,
} from "../src/lib/promotion";

const eur = (amount: number) => ({ amount, currency: "EUR" });
const form = (values: Partial<PromotionFormValues>): PromotionFormValues => ({ ...EMPTY_PROMOTION_FORM, ...values });

describe("a discount code in words", () => {
  it("names the offer as a percentage or an amount off", () => {
    expect(offerText({ percent_off: 10, amount_off: null }, "en-US")).toBe("10 %");
    expect(offerText({ percent_off: null, amount_off: eur(500) }, "en-US")).toBe("€5.00 off");
    expect(offerText({ percent_off: 100, amount_off: null }, "en-US")).toBe("100 %");
    expect(offerText({ percent_off: null, amount_off: null }, "en-US")).toBe("—");
  });

  it("says when there is no minimum", () => {
    expect(minimumText(eur(2000), "en-US")).toBe("€20.00");
    expect(minimumText(null)).toBe("None");
    expect(minimumText(undefined)).toBe("None");
  });

  it("gives the validity from either end, both, or neither", () => {
    const from = "2026-03-01T08:00:00Z";
    const until = "2026-03-31T22:00:00Z";
    expect(validityText(null, null)).toBe("Always");
    expect(validityText(from, null)).toBe(`From ${formatDateTime(from)}`);
    expect(validityText(undefined, until)).toBe(`Until ${formatDateTime(until)}`);
    expect(validityText(from, until)).toBe(`${formatDateTime(from)} – ${formatDateTime(until)}`);
  });

  it("lists the limits that are set", () => {
    expect(limitsText(null, null)).toBe("No limit");
    expect(limitsText(100, null)).toBe("100 in all");
    expect(limitsText(undefined, 1)).toBe("1 per customer");
    expect(limitsText(100, 1)).toBe("100 in all, 1 per customer");
  });

  it("names the categories it is limited to", () => {
    expect(categoriesText([])).toBe("Every category");
    expect(categoriesText(undefined)).toBe("Every category");
    expect(categoriesText(["Kitchen"])).toBe("Kitchen only");
    expect(categoriesText(["Kitchen", "Home"])).toBe("Kitchen and Home only");
    expect(categoriesText(["Kitchen", "Home", "Outdoors"])).toBe("Kitchen, Home and Outdoors only");
  });
});

describe("the new-code form's checks", () => {
  const good = form({ code: "spring-10", percent: "10" });

  it("accepts a code with a percentage and nothing else", () => {
    expect(validatePromotion(good)).toEqual({});
  });

  it("holds the code to the server's rule", () => {
    for (const bad of ["", "AB", "x".repeat(33), "SPRING 10", "SPRÌNG", "10%OFF"]) {
      expect(validatePromotion({ ...good, code: bad }).code, bad).toBe("Use 3 to 32 letters, digits, '-' or '_'.");
    }
    for (const fine of ["ABC", "x".repeat(32), "spring_10-b", " WINTER "]) {
      expect(validatePromotion({ ...good, code: fine }).code, fine).toBeUndefined();
    }
  });

  it("wants a whole percentage from 1 to 100, with or without the sign", () => {
    for (const bad of ["", "0", "101", "12.5", "ten", "-5"]) {
      expect(validatePromotion({ ...good, percent: bad }).percent, bad).toBe("Enter a whole percentage from 1 to 100.");
    }
    for (const fine of ["1", "100", "15 %", "15%"]) expect(validatePromotion({ ...good, percent: fine }).percent, fine).toBeUndefined();
  });

  it("checks only the offer that is chosen", () => {
    const amount = form({ code: "FIVE", kind: "amount", amount: "5", percent: "not looked at" });
    expect(validatePromotion(amount)).toEqual({});
    expect(validatePromotion({ ...amount, amount: "" }).amount).toBe("Enter an amount such as 5.00.");
    expect(validatePromotion({ ...amount, amount: "5.001" }).amount).toBe("Enter an amount such as 5.00.");
    expect(validatePromotion({ ...amount, amount: "0.00" }).amount).toBe("Enter an amount above zero.");
  });

  it("takes the optional fields empty or well-formed", () => {
    const e = validatePromotion({
      ...good,
      minimum: "twenty",
      validFrom: "tomorrow",
      maxRedemptions: "0",
      maxPerCustomer: "1.5",
    });
    expect(e).toEqual({
      minimum: "Enter an amount such as 20.00, or leave it empty.",
      validFrom: "Enter a date and time, or leave it empty.",
      maxRedemptions: "Enter a whole number, 1 or more, or leave it empty.",
      maxPerCustomer: "Enter a whole number, 1 or more, or leave it empty.",
    });
  });

  it("wants the end of the validity after its start", () => {
    const span = { ...good, validFrom: "2026-03-01T09:00", validUntil: "2026-03-01T09:00" };
    expect(validatePromotion(span).validUntil).toBe("The end must come after the start.");
    expect(validatePromotion({ ...span, validUntil: "2026-03-01T09:01" }).validUntil).toBeUndefined();
    expect(validatePromotion({ ...span, validFrom: "" }).validUntil).toBeUndefined();
  });
});

describe("the new-code form's body", () => {
  it("upper-cases the code and leaves out what was left empty", () => {
    expect(toNewPromotion(form({ code: " spring-10 ", percent: "10 %" }))).toEqual({ code: "SPRING-10", percent_off: 10 });
  });

  it("sends exactly one offer, the chosen one, in minor units", () => {
    const body = toNewPromotion(form({ code: "FIVE", kind: "amount", amount: "5", percent: "10" }));
    expect(body).toEqual({ code: "FIVE", amount_off: eur(500) });
    expect("percent_off" in body).toBe(false);
  });

  it("sends every term that was given", () => {
    const body = toNewPromotion(
      form({
        code: "ALL-IN",
        percent: "20",
        minimum: "25,50",
        validFrom: "2026-03-01T09:00",
        validUntil: "2026-03-31T18:30",
        maxRedemptions: "100",
        maxPerCustomer: "1",
        categories: " Kitchen, Home ,, kitchen",
      }),
    );
    expect(body).toEqual({
      code: "ALL-IN",
      percent_off: 20,
      min_subtotal: eur(2550),
      valid_from: new Date(2026, 2, 1, 9, 0).toISOString(),
      valid_until: new Date(2026, 2, 31, 18, 30).toISOString(),
      max_redemptions: 100,
      max_per_customer: 1,
      categories: ["Kitchen", "Home"],
    });
  });

  it("reads a datetime-local value as the reader's local time", () => {
    expect(localDateTimeToRfc3339("2026-03-01T09:00")).toBe(new Date(2026, 2, 1, 9, 0).toISOString());
    expect(localDateTimeToRfc3339("2026-03-01T09:00:30")).toBe(new Date(2026, 2, 1, 9, 0, 30).toISOString());
    for (const bad of ["", "March 1", "2026-03-01", "2026-13-01T09:00"]) expect(localDateTimeToRfc3339(bad), bad).toBeNull();
  });

  it("splits categories on commas, without empties or repeats", () => {
    expect(parseCategories("")).toEqual([]);
    expect(parseCategories("Home")).toEqual(["Home"]);
    expect(parseCategories("Home, , home,Outdoors ")).toEqual(["Home", "Outdoors"]);
  });
});

describe("the server's refusals of a new code", () => {
  it("go next to the fields they name, an offer's to the offer shown", () => {
    expect(
      serverPromotionErrors(
        { code: "must be 3 to 32 characters", "amount_off.amount": "must be above zero", max_redemptions: "must be at least 1", other: "bad" },
        "amount",
      ),
    ).toEqual({
      fields: { code: "Must be 3 to 32 characters.", amount: "Must be above zero.", maxRedemptions: "Must be at least 1." },
      other: { other: "Bad." },
    });
    expect(serverPromotionErrors({ percent_off: "must be at most 100" }, "percent").fields).toEqual({ percent: "Must be at most 100." });
  });

  it("without an errors map, go to a field by their problem type", () => {
    expect(problemField(409, "already_taken", "percent")).toBe("code");
    expect(problemField(409, "conflict", "percent")).toBe("code");
    expect(problemField(422, "promotion_code_taken", "percent")).toBe("code");
    expect(problemField(422, "invalid_discount_code", "percent")).toBe("code");
    expect(problemField(422, "invalid_discount", "amount")).toBe("amount");
    expect(problemField(422, "invalid_validity", "percent")).toBe("validUntil");
    expect(problemField(422, "validation_failed", "percent")).toBeUndefined();
  });
});
