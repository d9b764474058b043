import { useState } from "react";
import { errorMessage } from "../api/client";
import type { Product } from "../api/types";
import { navigate, useLocation } from "../lib/router";
import { useAuth } from "../store/auth";
import { useCart } from "../store/cart";
import { useToast } from "../store/toast";

/** "Add to cart", with a quantity on the product page; anonymous visitors are sent to log in first. */
export function AddToCart({ product, compact = false }: { product: Product; compact?: boolean }) {
  const { state, session } = useAuth();
  // Until the page knows whether someone is signed in, a click could send a signed-in customer to log in.
  const checking = state.status === "loading";
  const { cart, add } = useCart();
  const toast = useToast();
  const { path, search } = useLocation();
  const [quantity, setQuantity] = useState(1);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const inCart = cart?.items.find((l) => l.product_id === product.id)?.quantity ?? 0;
  const max = Math.max(0, Math.min(99 - inCart, product.available - inCart));
  const soldOut = product.available <= 0;
  // A product without a price cannot be bought: the server would refuse it, and the cart could not show it.
  const unpriced = !product.price;
  const blocked = soldOut || unpriced;
  const label = unpriced ? "Unavailable" : soldOut ? "Sold out" : busy ? "Adding…" : "Add to cart";

  async function onAdd() {
    if (!session) {
      navigate(`/login?next=${encodeURIComponent(path + search)}`);
      return;
    }
    setBusy(true);
    setError("");
    try {
      await add(product.id, quantity);
      toast(`Added ${quantity > 1 ? `${quantity} × ` : ""}${product.name} to your cart`);
      setQuantity(1);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  if (compact) {
    return (
      <div className="card-action">
        <button
          type="button"
          className="btn btn-block"
          onClick={onAdd}
          disabled={busy || blocked || checking || (session !== null && max < 1)}
          aria-label={`Add ${product.name} to cart`}
          title={unpriced ? "This product has no price right now, so it cannot be bought." : undefined}
        >
          {label}
        </button>
        {error && <p className="field-error" role="alert">{error}</p>}
      </div>
    );
  }

  return (
    <div className="buy-box">
      {!blocked && (
        <div className="field quantity-field">
          <label htmlFor="buy-quantity">Quantity</label>
          <input
            id="buy-quantity"
            type="number"
            inputMode="numeric"
            min={1}
            max={Math.max(1, max)}
            value={quantity}
            onChange={(e) => setQuantity(Math.max(1, Math.min(Math.max(1, max), Math.floor(Number(e.target.value) || 1))))}
          />
        </div>
      )}
      <button
        type="button"
        className="btn btn-primary btn-large"
        onClick={onAdd}
        disabled={busy || blocked || checking || (session !== null && max < 1)}
        aria-describedby={unpriced ? "buy-unpriced" : undefined}
      >
        {label}
      </button>
      {unpriced && (
        <p className="muted" id="buy-unpriced">
          This product has no price right now, so it cannot be added to the cart.
        </p>
      )}
      {inCart > 0 && <p className="muted">{inCart} already in your cart.</p>}
      {error && <p className="field-error" role="alert">{error}</p>}
    </div>
  );
}
