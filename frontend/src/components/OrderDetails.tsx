import type { Order } from "../api/types";
import { cancellationText, cardLabel, countryName, formatDateTime, humanize, PAYMENT_STATUS, statusLabel } from "../lib/format";
import { Link } from "../lib/router";
import { Deduction, Price } from "./ui";

/** The payment's state in words; a cancelled order whose payment never started was simply not charged. */
function paymentText(order: Order): string {
  const status = order.payment?.status || "pending";
  if (order.status === "cancelled" && status === "pending") return "Not charged";
  return PAYMENT_STATUS[status] ?? humanize(status);
}

const STEPS = ["pending", "confirmed", "shipped", "delivered"] as const;

/** Where the order is, as a four-step progress bar (or a cancelled note). */
export function OrderProgress({ order }: { order: Order }) {
  if (order.status === "cancelled") {
    return (
      <div className="alert alert-error order-cancelled" role="status">
        <strong>This order was cancelled.</strong> {cancellationText(order.cancellation_reason)}
        {order.payment?.status === "refunded" && " Your payment has been refunded."}
      </div>
    );
  }
  // The API types `status` as any string: one that is not a step reaches none.
  const reached = (STEPS as readonly string[]).indexOf(order.status);
  return (
    <ol className="progress" aria-label="Order progress">
      {STEPS.map((s, i) => (
        <li key={s} className={i < reached ? "done" : i === reached ? "current" : ""} aria-current={i === reached ? "step" : undefined}>
          <span className="progress-dot" aria-hidden="true" />
          {statusLabel(s)}
        </li>
      ))}
    </ol>
  );
}

/** The order's lines at the price of its checkout; with a discount code, each line's share, the subtotal and the code. */
export function OrderItems({ order }: { order: Order }) {
  const discount = order.discount;
  return (
    <section className="panel" aria-labelledby="items-heading">
      <h2 id="items-heading">Items</h2>
      <table className="table order-items">
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col" className="num hide-sm">Unit price</th>
            <th scope="col" className="num">Qty</th>
            <th scope="col" className="num">Total</th>
          </tr>
        </thead>
        <tbody>
          {order.items.map((l) => (
            <tr key={l.product_id}>
              <td>
                <Link to={`/products/${l.product_id}`}>{l.name}</Link>
                <span className="muted small block">SKU {l.sku}</span>
              </td>
              <td className="num hide-sm"><Price money={l.unit_price} /></td>
              <td className="num">{l.quantity}</td>
              <td className="num">
                <Price money={l.line_total} />
                {l.discount && l.discount.amount !== 0 && (
                  <span className="line-discount block" data-testid="line-discount">
                    <Deduction money={l.discount} className="price" />
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          {discount && order.subtotal && (
            <tr className="order-subtotal" data-testid="order-subtotal">
              <th scope="row">Subtotal</th>
              <td className="hide-sm" />
              <td />
              <td className="num"><Price money={order.subtotal} /></td>
            </tr>
          )}
          {discount && (
            <tr className="order-discount" data-testid="order-discount">
              <th scope="row">Discount ({discount.code})</th>
              <td className="hide-sm" />
              <td />
              <td className="num"><Deduction money={discount.amount} /></td>
            </tr>
          )}
          <tr data-testid="order-total">
            <th scope="row">Total</th>
            <td className="hide-sm" />
            <td />
            <td className="num"><Price money={order.total} className="price strong" /></td>
          </tr>
        </tfoot>
      </table>
    </section>
  );
}

export function OrderFacts({ order }: { order: Order }) {
  const a = order.shipping_address;
  return (
    <div className="facts">
      <section className="panel" aria-labelledby="ship-heading">
        <h2 id="ship-heading">Shipping to</h2>
        {a ? (
          <address>
            {a.name}
            <br />
            {a.line1}
            {a.line2 && (
              <>
                <br />
                {a.line2}
              </>
            )}
            <br />
            {a.postal_code} {a.city}
            <br />
            {countryName(a.country)}
          </address>
        ) : (
          <p className="muted">—</p>
        )}
        {order.tracking_number && (
          <p>
            Tracking number: <strong data-testid="tracking-number">{order.tracking_number}</strong>
          </p>
        )}
      </section>
      <section className="panel" aria-labelledby="pay-heading">
        <h2 id="pay-heading">Payment</h2>
        {order.payment ? (
          <dl className="specs">
            <dt>Card</dt>
            <dd>{cardLabel(order.payment.method) || "—"}</dd>
            <dt>Status</dt>
            <dd>{paymentText(order)}</dd>
            {order.payment.amount && order.payment.status !== "nothing_to_pay" && paymentText(order) !== "Not charged" && (
              <>
                <dt>Amount</dt>
                <dd><Price money={order.payment.amount} /></dd>
              </>
            )}
          </dl>
        ) : (
          <p className="muted">—</p>
        )}
      </section>
    </div>
  );
}

export function OrderTimeline({ order }: { order: Order }) {
  return (
    <section className="panel" aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Timeline</h2>
      {order.timeline.length === 0 ? (
        <p className="muted">Nothing has happened yet.</p>
      ) : (
        <ol className="timeline" data-testid="timeline">
          {order.timeline.map((t, i) => (
            <li key={i} className={`timeline-${t.status}`}>
              <span className="timeline-dot" aria-hidden="true" />
              <div>
                <strong>{statusLabel(t.status)}</strong>
                <time dateTime={t.at} className="muted small">
                  {" "}
                  {formatDateTime(t.at)}
                </time>
                {t.detail && <p className="timeline-detail">{t.detail[0].toUpperCase() + t.detail.slice(1)}</p>}
              </div>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
