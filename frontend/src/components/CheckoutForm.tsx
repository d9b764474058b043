/**
 * The shipping address and the card. Checks the address as the server will before sending, and shows the
 * server's own `errors` (`shipping_address.city`, `payment_method`) next to the fields they name.
 */
import { useRef, useState, type FormEvent } from "react";
import { ApiError, errorMessage } from "../api/client";
import type { Address } from "../api/types";
import {
  ADDRESS_LABELS,
  COUNTRIES,
  EMPTY_ADDRESS,
  serverAddressErrors,
  toAddress,
  validateAddress,
  type AddressErrors,
  type AddressField,
  type AddressInput,
} from "../lib/address";
import { TEST_CARDS } from "../lib/format";
import { ErrorNote, SelectField, TextField } from "./ui";

export interface CheckoutFormProps {
  onSubmit(address: Address, paymentMethod: string): Promise<void>;
  initial?: Partial<AddressInput>;
  submitLabel?: string;
  /** Why the order cannot be placed now (e.g. a line no longer available): the button is disabled and says so. */
  blocked?: string;
}

const AUTOCOMPLETE: Record<AddressField, string> = {
  name: "shipping name",
  line1: "shipping address-line1",
  line2: "shipping address-line2",
  city: "shipping address-level2",
  postal_code: "shipping postal-code",
  country: "shipping country",
};

export function CheckoutForm({ onSubmit, initial, submitLabel = "Place order", blocked }: CheckoutFormProps) {
  const [address, setAddress] = useState<AddressInput>({ ...EMPTY_ADDRESS, ...initial });
  const [card, setCard] = useState(TEST_CARDS[0].token);
  const [errors, setErrors] = useState<AddressErrors>({});
  const [cardError, setCardError] = useState("");
  const [formError, setFormError] = useState("");
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  function update(field: AddressField, value: string) {
    const next = { ...address, [field]: value };
    setAddress(next);
    // Once the user has tried to submit, errors follow their typing.
    if (touched) setErrors(validateAddress(next));
  }

  function focusFirstError() {
    window.setTimeout(() => form.current?.querySelector<HTMLElement>("[aria-invalid='true']")?.focus(), 0);
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (blocked) return;
    setTouched(true);
    setFormError("");
    setCardError("");
    const found = validateAddress(address);
    setErrors(found);
    if (Object.keys(found).length > 0) {
      setFormError("Please check the highlighted fields.");
      focusFirstError();
      return;
    }
    setBusy(true);
    try {
      await onSubmit(toAddress(address), card);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fieldErrors).length > 0) {
        const { fields, other } = serverAddressErrors(err.fieldErrors);
        setErrors(fields);
        if (other.payment_method) setCardError(other.payment_method);
        const rest = Object.entries(other).filter(([k]) => k !== "payment_method");
        setFormError(rest.length > 0 ? rest.map(([k, v]) => `${k}: ${v}`).join(" ") : "Please check the highlighted fields.");
        focusFirstError();
      } else {
        setFormError(errorMessage(err));
      }
    } finally {
      setBusy(false);
    }
  }

  const text = (field: AddressField, extra: Record<string, unknown> = {}) => (
    <TextField
      label={ADDRESS_LABELS[field]}
      name={field}
      value={address[field]}
      error={errors[field]}
      onChange={(e) => update(field, e.target.value)}
      autoComplete={AUTOCOMPLETE[field]}
      className={`f-${field}`}
      {...extra}
    />
  );

  return (
    <form ref={form} className="checkout-form" onSubmit={submit} noValidate aria-label="Checkout">
      <fieldset className="panel">
        <legend>Shipping address</legend>
        <div className="form-grid">
          {text("name", { required: true })}
          {text("line1", { required: true })}
          {text("line2")}
          {text("postal_code", { required: true })}
          {text("city", { required: true })}
          <SelectField
            label={ADDRESS_LABELS.country}
            name="country"
            value={address.country}
            error={errors.country}
            onChange={(e) => update("country", e.target.value)}
            autoComplete={AUTOCOMPLETE.country}
            className="f-country"
            required
          >
            <option value="">Choose a country…</option>
            {COUNTRIES.map(([code, name]) => (
              <option key={code} value={code}>
                {name}
              </option>
            ))}
          </SelectField>
        </div>
      </fieldset>

      <fieldset className="panel" aria-describedby={cardError ? "card-error" : undefined}>
        <legend>Payment</legend>
        <p className="muted small">Payments are simulated: pick a test card to see how the order turns out.</p>
        <div className="cards">
          {TEST_CARDS.map((c) => (
            <label key={c.token} className={`card-option${card === c.token ? " selected" : ""}`}>
              <input type="radio" name="payment_method" value={c.token} checked={card === c.token} onChange={() => setCard(c.token)} />
              <span className="card-option-text">
                <span className="card-option-label">{c.label}</span>
                <span className="card-option-hint">
                  {c.hint} · <code>{c.token}</code>
                </span>
              </span>
            </label>
          ))}
        </div>
        {cardError && (
          <p className="field-error" id="card-error">
            {cardError}
          </p>
        )}
      </fieldset>

      {formError && <ErrorNote error={formError} />}
      <button
        type="submit"
        className="btn btn-primary btn-large btn-block"
        disabled={busy || !!blocked}
        aria-describedby={blocked ? "checkout-blocked" : undefined}
      >
        {busy ? "Placing your order…" : submitLabel}
      </button>
      {blocked && (
        <p className="checkout-blocked" id="checkout-blocked" data-testid="checkout-blocked">
          {blocked}
        </p>
      )}
    </form>
  );
}
