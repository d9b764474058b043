import { useEffect, useState } from "react";
import { errorMessage } from "../api/client";
import type { CartLine } from "../api/types";
import { Empty, ErrorNote, Loading, Price, ProductArt } from "../components/ui";
import { plural } from "../lib/format";
import { useTitle } from "../lib/page";
import { Link } from "../lib/router";
import { unavailableLines, unavailableNotice, useCart } from "../store/cart";

export function CartPage() {
  const { cart, loading, refresh } = useCart();
  const [error, setError] = useState<unknown>();
  useTitle("Cart");
  const unavailable = unavailableLines(cart);

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
              <CartRow key={line.product_id} line={line} />
            ))}
          </ul>
          <aside className="summary" aria-label="Order summary">
            <h2>Summary</h2>
            <div className="summary-row">
              <span>{plural(cart.item_count, "item")}</span>
              <Price money={cart.total} />
            </div>
            <div className="summary-row">
              <span>Shipping</span>
              <span>Free</span>
            </div>
            <div className="summary-row summary-total">
              <span>Total</span>
              <Price money={cart.total} />
            </div>
            {unavailable.length > 0 ? (
              <>
                {/* A link cannot be disabled: a disabled button stands in until the lines are removed. */}
                <button type="button" className="btn btn-primary btn-block btn-large" disabled aria-describedby="checkout-blocked">
                  Check out
                </button>
                <p className="checkout-blocked" id="checkout-blocked" data-testid="checkout-blocked">
                  {unavailableNotice(unavailable)}
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

function CartRow({ line }: { line: CartLine }) {
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
