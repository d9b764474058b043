/**
 * A cart's sums in its order summary (cart and checkout pages): the subtotal, what the discount code takes off
 * (or, when it no longer applies, the server's reason instead of an amount), shipping, and the total after it.
 */
import type { Cart } from "../api/types";
import { plural } from "../lib/format";
import { Deduction, Price } from "./ui";

export function CartTotals({ cart }: { cart: Cart }) {
  const discount = cart.discount;
  const items = plural(cart.item_count, "item");
  return (
    <>
      <div className="summary-row" data-testid="cart-subtotal">
        <span>{discount ? `Subtotal (${items})` : items}</span>
        {/* A server that predates discounts sends no subtotal: without a discount it is the total. */}
        <Price money={cart.subtotal ?? cart.total} />
      </div>
      {discount && (
        <div className="summary-row summary-discount" data-testid="cart-discount">
          <span>Discount ({discount.code})</span>
          {!discount.reason && <Deduction money={discount.amount} />}
        </div>
      )}
      {discount?.reason && (
        <p className="discount-reason" data-testid="discount-reason">
          {discount.reason}
        </p>
      )}
      <div className="summary-row">
        <span>Shipping</span>
        <span>Free</span>
      </div>
      <div className="summary-row summary-total" data-testid="cart-total">
        <span>Total</span>
        <Price money={cart.total} />
      </div>
    </>
  );
}
