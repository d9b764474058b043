import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../src/api/client";
import { CheckoutForm } from "../src/components/CheckoutForm";
import { EMPTY_ADDRESS, serverAddressErrors, toAddress, validateAddress } from "../src/lib/address";

const GOOD = { name: "Robin", line1: "1 Main St", line2: "", city: "Berlin", postal_code: "10115", country: "DE" };

describe("address validation", () => {
  it("accepts a complete address", () => {
    expect(validateAddress(GOOD)).toEqual({});
  });

  it("requires every field but line2, as the server does", () => {
    expect(Object.keys(validateAddress(EMPTY_ADDRESS)).sort()).toEqual(["city", "country", "line1", "name", "postal_code"]);
    expect(validateAddress({ ...GOOD, city: "   " }).city).toBe("Please enter a city.");
  });

  it("checks lengths and the country code", () => {
    expect(validateAddress({ ...GOOD, line1: "x".repeat(201) }).line1).toBe("Use at most 200 characters.");
    expect(validateAddress({ ...GOOD, line2: "x".repeat(201) }).line2).toBe("Use at most 200 characters.");
    expect(validateAddress({ ...GOOD, postal_code: "1".repeat(21) }).postal_code).toBe("Use at most 20 characters.");
    expect(validateAddress({ ...GOOD, country: "DEU" }).country).toBeDefined();
    expect(validateAddress({ ...GOOD, country: "de" }).country).toBeUndefined();
  });

  it("trims, upper-cases the country and leaves an empty line2 out", () => {
    expect(toAddress({ ...GOOD, name: " Robin ", country: "de" })).toEqual({
      name: "Robin", line1: "1 Main St", city: "Berlin", postal_code: "10115", country: "DE",
    });
    expect(toAddress({ ...GOOD, line2: " Flat 2 " }).line2).toBe("Flat 2");
  });

  it("maps the server's dotted keys to the fields", () => {
    expect(
      serverAddressErrors({ "shipping_address.city": "must not be empty", payment_method: "must be one of x", other: "bad" }),
    ).toEqual({
      fields: { city: "Must not be empty." },
      other: { payment_method: "Must be one of x.", other: "Bad." },
    });
  });
});

function errorOf(label: string): string | null {
  const input = screen.getByLabelText(label);
  const ids = input.getAttribute("aria-describedby") ?? "";
  return ids
    .split(" ")
    .map((id) => document.getElementById(id))
    .find((el) => el?.classList.contains("field-error"))?.textContent ?? null;
}

function fill(values: Record<string, string>) {
  for (const [label, value] of Object.entries(values)) {
    fireEvent.change(screen.getByLabelText(label), { target: { value } });
  }
}

describe("the checkout form", () => {
  it("shows each problem next to its field and sends nothing", async () => {
    const onSubmit = vi.fn();
    render(<CheckoutForm onSubmit={onSubmit} />);
    fireEvent.click(screen.getByRole("button", { name: "Place order" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(errorOf("Full name")).toBe("Please enter the recipient's name.");
    expect(errorOf("City")).toBe("Please enter a city.");
    expect(errorOf("Country")).toBe("Please choose a country.");
    expect(errorOf("Apartment, suite, etc. (optional)")).toBeNull();
    expect(screen.getByLabelText("City").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("alert").textContent).toMatch(/check the highlighted fields/);

    // Errors follow typing once shown.
    fill({ City: "Berlin" });
    expect(errorOf("City")).toBeNull();
  });

  it("sends a valid address with the chosen test card", async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    render(<CheckoutForm onSubmit={onSubmit} />);
    fill({ "Full name": " Robin ", Address: "1 Main St", "Postal code": "10115", City: "Berlin", Country: "DE" });
    fireEvent.click(screen.getByRole("radio", { name: /Mastercard/ }));
    fireEvent.click(screen.getByRole("button", { name: "Place order" }));
    await waitFor(() => expect(onSubmit).toHaveBeenCalledOnce());
    expect(onSubmit).toHaveBeenCalledWith(
      { name: "Robin", line1: "1 Main St", city: "Berlin", postal_code: "10115", country: "DE" },
      "pm_card_mastercard",
    );
  });

  it("puts the server's errors map next to the fields it names", async () => {
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError({
        status: 422,
        detail: "2 fields are not valid.",
        errors: { "shipping_address.postal_code": "must be at most 20 characters", payment_method: "must be one of pm_card_visa" },
      }),
    );
    render(<CheckoutForm onSubmit={onSubmit} />);
    fill({ "Full name": "Robin", Address: "1 Main St", "Postal code": "10115", City: "Berlin", Country: "DE" });
    fireEvent.click(screen.getByRole("button", { name: "Place order" }));
    await screen.findByText("Must be at most 20 characters.");
    expect(errorOf("Postal code")).toBe("Must be at most 20 characters.");
    expect(screen.getByText("Must be one of pm_card_visa.")).toBeTruthy();
  });

  it("shows any other failure in plain words", async () => {
    const onSubmit = vi.fn().mockRejectedValue(new ApiError({ status: 422, detail: "The cart is empty." }));
    render(<CheckoutForm onSubmit={onSubmit} />);
    fill({ "Full name": "Robin", Address: "1 Main St", "Postal code": "10115", City: "Berlin", Country: "DE" });
    fireEvent.click(screen.getByRole("button", { name: "Place order" }));
    expect((await screen.findByRole("alert")).textContent).toBe("The cart is empty.");
  });
});
