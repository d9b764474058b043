import { useEffect, useRef, useState, type FormEvent } from "react";
import { errorMessage } from "../api/client";
import type { Cart, CartLine } from "../api/types";
import { CartTotals } from "../components/CartTotals";
import { Deduction, Empty, ErrorNote, Loading, Price, ProductArt, TextField } from "../components/ui";
import { useTitle } from "../lib/page";
import { Link } from "../lib/router";
import { checkoutNotice, useCart } from "../store/cart";

export function CartPage() {
  const { cart, loading, refresh } = useCart();
  const [error, setError] = useState<unknown>();
  useTitle("Cart");
  // Lines no longer sold, or a code that no longer applies: the server would refuse the cart.
  const blocked = checkoutNotice(cart);

  useEffect(() => {
    refresh().catch(setError);
  }, [refresh]);

  return (
    <div className="page">
      <h1>Your cart</h1>
      <ErrorNote error={error} onRetry={() => { setError(undefined); refresh().catch(setError); }} />
      {!cart && loading && <Loading label="Loading your cart…" />}
      {cart && cart.items.length === 0 && (
        <Empty title="Your cart is empty">
          <p>Find something you like in the catalog.</p>
          <Link to="/" className="btn btn-primary">Browse products</Link>
        </Empty>
      )}
      {cart && cart.items.length > 0 && (
        <div className="cart-layout">
          <ul className="cart-lines" aria-label="Items in your cart">
            {cart.items.map((line) => (
              <CartRow key={line.product_id} line={line} code={cart.discount?.code} />
            ))}
          </ul>
          <aside className="summary" aria-label="Order summary">
            <h2>Summary</h2>
            <CartTotals cart={cart} />
            <DiscountCode cart={cart} />
            {blocked ? (
              <>
                {/* A link cannot be disabled: a disabled button stands in until the cart can be checked out. */}
                <button type="button" className="btn btn-primary btn-block btn-large" disabled aria-describedby="checkout-blocked">
                  Check out
                </button>
                <p className="checkout-blocked" id="checkout-blocked" data-testid="checkout-blocked">
                  {blocked}
                </p>
              </>
            ) : (
              <Link to="/checkout" className="btn btn-primary btn-block btn-large">
                Check out
              </Link>
            )}
            <Link to="/" className="btn btn-ghost btn-block">
              Continue shopping
            </Link>
          </aside>
        </div>
      )}
    </div>
  );
}

/**
 * The discount code: a field to apply one, whose refusal (an unknown or expired code, a cart below its minimum,
 * ...) shows the server's sentence under it; once one is applied, the code and a button to remove it.
 */
function DiscountCode({ cart }: { cart: Cart }) {
  const { applyDiscount, removeDiscount } = useCart();
  const [code, setCode] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const applied = cart.discount;

  async function apply(e: FormEvent) {
    e.preventDefault();
    const wanted = code.trim();
    setError("");
    if (!wanted) {
      setError("Enter a discount code.");
      return;
    }
    setBusy(true);
    try {
      await applyDiscount(wanted);
      setCode("");
    } catch (err) {
      setError(errorMessage(err));
      // Back to the field, so its error (tied to it by aria-describedby) is read out.
      window.setTimeout(() => form.current?.querySelector("input")?.focus(), 0);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    setError("");
    try {
      await removeDiscount();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  if (applied) {
    return (
      <div className="discount-applied" data-testid="discount-applied" aria-busy={busy}>
        <span>
          {/* When it no longer applies, the reason is in the totals above and the checkout notice below. */}
          Code <strong>{applied.code}</strong>{applied.reason ? "" : " applied"}
        </span>
        <button type="button" className="btn btn-link" onClick={remove} disabled={busy}>
          Remove<span className="visually-hidden"> discount code {applied.code}</span>
        </button>
        {error && <p className="field-error" role="alert">{error}</p>}
      </div>
    );
  }
  return (
    <form ref={form} className="discount-form" onSubmit={apply} noValidate>
      <TextField
        label="Discount code"
        name="discount_code"
        value={code}
        onChange={(e) => setCode(e.target.value)}
        error={error}
        autoComplete="off"
        autoCapitalize="characters"
        spellCheck={false}
      />
      <button type="submit" className="btn" disabled={busy}>
        {busy ? "Applying…" : "Apply"}
      </button>
    </form>
  );
}

/** `code`: the discount code applied to the cart, which a line's `discount` comes from. */
function CartRow({ line, code }: { line: CartLine; code?: string }) {
  const { setQuantity, remove } = useCart();
  const [value, setValue] = useState(String(line.quantity));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  useEffect(() => setValue(String(line.quantity)), [line.quantity]);

  async function change(quantity: number) {
    if (!Number.isInteger(quantity) || quantity < 0 || quantity > 99) {
      setError("Choose a quantity from 1 to 99.");
      setValue(String(line.quantity));
      return;
    }
    if (quantity === line.quantity) return;
    setBusy(true);
    setError("");
    try {
      if (quantity === 0) await remove(line.product_id);
      else await setQuantity(line.product_id, quantity);
    } catch (e) {
      setError(errorMessage(e));
      setValue(String(line.quantity));
    } finally {
      setBusy(false);
    }
  }

  const inputId = `qty-${line.product_id}`;
  // A line whose product is no longer sold can only be removed: its quantity cannot change, and its page is gone.
  const gone = line.available === false;
  const stepper = gone ? (
    <span className="stepper muted">Quantity: {line.quantity}</span>
  ) : (
    <div className="stepper" role="group" aria-label={`Quantity of ${line.name}`}>
      <button type="button" className="btn btn-icon" onClick={() => change(line.quantity - 1)} disabled={busy} aria-label={`One fewer ${line.name}`}>
        −
      </button>
      <label htmlFor={inputId} className="visually-hidden">
        Quantity of {line.name}
      </label>
      <input
        id={inputId}
        type="number"
        inputMode="numeric"
        min={0}
        max={99}
        value={value}
        disabled={busy}
        onChange={(e) => setValue(e.target.value)}
        onBlur={() => change(Number(value))}
        onKeyDown={(e) => {
          if (e.key === "Enter") change(Number(value));
        }}
      />
      <button type="button" className="btn btn-icon" onClick={() => change(line.quantity + 1)} disabled={busy || line.quantity >= 99} aria-label={`One more ${line.name}`}>
        +
      </button>
    </div>
  );
  return (
    <li
      className={`cart-line${gone ? " cart-line-unavailable" : ""}`}
      data-testid="cart-line"
      data-available={gone ? "false" : "true"}
      aria-busy={busy}
    >
      <ProductArt name={line.name} sku={line.sku} size="thumb" />
      <div className="cart-line-main">
        {gone ? (
          <span className="cart-line-name">{line.name}</span>
        ) : (
          <Link to={`/products/${line.product_id}`} className="cart-line-name">
            {line.name}
          </Link>
        )}
        <span className="muted">
          <Price money={line.unit_price} /> each · SKU {line.sku}
        </span>
        {line.discount && line.discount.amount !== 0 && (
          <span className="line-discount" data-testid="line-discount">
            <Deduction money={line.discount} className="price" /> with {code ?? "your code"}
          </span>
        )}
        {gone && (
          <p className="line-unavailable">
            <span className="badge badge-unavailable">No longer available</span>{" "}
            <span className="small">This product is no longer sold; remove it to check out.</span>
          </p>
        )}
        {error && <p className="field-error" role="alert">{error}</p>}
      </div>
      {stepper}
      <Price money={line.line_total} className="price cart-line-total" />
      <button type="button" className="btn btn-link remove" onClick={() => change(0)} disabled={busy}>
        Remove<span className="visually-hidden"> {line.name}</span>
      </button>
    </li>
  );
}
