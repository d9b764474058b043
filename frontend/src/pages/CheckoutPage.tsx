import { useEffect, useRef } from "react";
import { checkOut } from "../api/cart";
import { ApiError, newIdempotencyKey } from "../api/client";
import type { Address } from "../api/types";
import { CartTotals } from "../components/CartTotals";
import { CheckoutForm } from "../components/CheckoutForm";
import { Empty, Loading, Price } from "../components/ui";
import { useTitle } from "../lib/page";
import { Link, navigate } from "../lib/router";
import { useAuth } from "../store/auth";
import { checkoutNotice, useCart } from "../store/cart";

export function CheckoutPage() {
  const { cart, loading, refresh, clear } = useCart();
  const { session } = useAuth();
  // One key per visit to this page: a double click or a retry after a lost answer places one order.
  const key = useRef(newIdempotencyKey());
  useTitle("Checkout");
  // The server refuses a cart with a line no longer available, or with a code that no longer applies; say so
  // before the customer fills in the form.
  const blocked = checkoutNotice(cart);

  useEffect(() => {
    refresh().catch(() => {});
  }, [refresh]);

  async function place(address: Address, paymentMethod: string) {
    let written;
    try {
      written = await checkOut(
        { shipping_address: address, payment_method: paymentMethod },
        { idempotencyKey: key.current },
      );
    } catch (e) {
      // The server keeps a refused (4xx) answer under its key too: a corrected attempt needs a fresh key.
      // After a lost answer or a 5xx the same key stays, so a retry cannot place a second order.
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) key.current = newIdempotencyKey();
      // A product discontinued or a code used up (422), or a cart changed (409) meanwhile: show the cart as it is now.
      if (e instanceof ApiError && (e.status === 409 || e.status === 422)) refresh().catch(() => {});
      throw e;
    }
    const { id, position } = written;
    clear();
    navigate(`/orders/${id}?placed=1${position ? `&position=${encodeURIComponent(position)}` : ""}`);
  }

  if (!cart && loading) return <Loading label="Loading your cart…" />;
  if (cart && cart.items.length === 0) {
    return (
      <div className="page narrow">
        <h1>Checkout</h1>
        <Empty title="Your cart is empty">
          <Link to="/" className="btn btn-primary">Browse products</Link>
        </Empty>
      </div>
    );
  }
  return (
    <div className="page">
      <h1>Checkout</h1>
      <div className="checkout-layout">
        <CheckoutForm
          onSubmit={place}
          initial={{ name: session?.name ?? "" }}
          blocked={blocked}
        />
        {cart && (
          <aside className="summary" aria-label="Order summary">
            <h2>Your order</h2>
            <ul className="summary-lines">
              {cart.items.map((l) => (
                <li key={l.product_id} className={l.available === false ? "summary-line-unavailable" : undefined}>
                  <span>
                    {l.quantity} × {l.name}
                    {l.available === false && (
                      <>
                        {" "}
                        <span className="badge badge-unavailable">No longer available</span>
                      </>
                    )}
                  </span>
                  <Price money={l.line_total} />
                </li>
              ))}
            </ul>
            <CartTotals cart={cart} />
            <Link to="/cart" className="btn btn-ghost btn-block">Edit cart</Link>
          </aside>
        )}
      </div>
    </div>
  );
}
