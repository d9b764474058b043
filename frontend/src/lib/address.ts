/**
 * The shipping address form's rules, the same the server applies (domain `Address::parse`): every line but
 * `line2` is required, lines up to 200 characters, postal code up to 20, country an ISO 3166-1 alpha-2 code.
 * Checking here first gives instant feedback; the server's `errors` map still wins when it disagrees.
 */
import type { Address } from "../api/types";

export type AddressField = "name" | "line1" | "line2" | "city" | "postal_code" | "country";
export type AddressErrors = Partial<Record<AddressField, string>>;

export interface AddressInput {
  name: string;
  line1: string;
  line2: string;
  city: string;
  postal_code: string;
  country: string;
}

export const EMPTY_ADDRESS: AddressInput = { name: "", line1: "", line2: "", city: "", postal_code: "", country: "" };

export const ADDRESS_LABELS: Record<AddressField, string> = {
  name: "Full name",
  line1: "Address",
  line2: "Apartment, suite, etc. (optional)",
  city: "City",
  postal_code: "Postal code",
  country: "Country",
};

const MAX_LINE = 200;
const MAX_POSTAL = 20;

export function validateAddress(input: AddressInput): AddressErrors {
  const errors: AddressErrors = {};
  const required = (field: AddressField, what: string, max = MAX_LINE) => {
    const value = input[field].trim();
    if (!value) errors[field] = `Please enter ${what}.`;
    else if (value.length > max) errors[field] = `Use at most ${max} characters.`;
  };
  required("name", "the recipient's name");
  required("line1", "the street address");
  if (input.line2.trim().length > MAX_LINE) errors.line2 = `Use at most ${MAX_LINE} characters.`;
  required("city", "a city");
  required("postal_code", "a postal code", MAX_POSTAL);
  if (!/^[A-Za-z]{2}$/.test(input.country.trim())) errors.country = "Please choose a country.";
  return errors;
}

/** The body's `shipping_address`, trimmed, with an empty `line2` left out. */
export function toAddress(input: AddressInput): Address {
  const address: Address = {
    name: input.name.trim(),
    line1: input.line1.trim(),
    city: input.city.trim(),
    postal_code: input.postal_code.trim(),
    country: input.country.trim().toUpperCase(),
  };
  if (input.line2.trim()) address.line2 = input.line2.trim();
  return address;
}

/**
 * Picks the address fields out of a server `errors` map (`shipping_address.city` → `city`), so they show
 * next to the right inputs; anything else stays in `other`.
 */
export function serverAddressErrors(errors: Record<string, string>): {
  fields: AddressErrors;
  other: Record<string, string>;
} {
  const fields: AddressErrors = {};
  const other: Record<string, string> = {};
  for (const [key, message] of Object.entries(errors)) {
    const match = /^shipping_address\.(name|line1|line2|city|postal_code|country)$/.exec(key);
    if (match) fields[match[1] as AddressField] = sentence(message);
    else other[key] = sentence(message);
  }
  return { fields, other };
}

/** "must not be empty" → "Must not be empty." */
export function sentence(message: string): string {
  const text = message.trim();
  if (!text) return text;
  const capital = text[0].toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** A short list of countries for the select; the code is what the API stores. */
export const COUNTRIES: [string, string][] = [
  ["AT", "Austria"], ["AU", "Australia"], ["BE", "Belgium"], ["CA", "Canada"], ["CH", "Switzerland"],
  ["CZ", "Czechia"], ["DE", "Germany"], ["DK", "Denmark"], ["ES", "Spain"], ["FI", "Finland"],
  ["FR", "France"], ["GB", "United Kingdom"], ["GR", "Greece"], ["HU", "Hungary"], ["IE", "Ireland"],
  ["IT", "Italy"], ["JP", "Japan"], ["LU", "Luxembourg"], ["NL", "Netherlands"], ["NO", "Norway"],
  ["NZ", "New Zealand"], ["PL", "Poland"], ["PT", "Portugal"], ["SE", "Sweden"], ["US", "United States"],
];
