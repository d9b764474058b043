import { useState } from "react";
import { ApiError, errorMessage } from "../api/client";
import { cancelOrder } from "../api/orders";
import { OrderFacts, OrderItems, OrderProgress, OrderTimeline } from "../components/OrderDetails";
import { Empty, ErrorNote, Loading, StatusBadge } from "../components/ui";
import { formatDateTime, shortId } from "../lib/format";
import { useTitle } from "../lib/page";
import { Link, useLocation } from "../lib/router";
import { useOrder } from "../lib/useOrder";
import { useToast } from "../store/toast";

export function OrderPage({ id }: { id: string }) {
  const { query } = useLocation();
  const placed = query.get("placed") === "1";
  const { order, error, loading, reload } = useOrder(id, query.get("position") ?? undefined);
  const [cancelling, setCancelling] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [actionError, setActionError] = useState("");
  const toast = useToast();
  useTitle(order ? `Order ${shortId(order.id)}` : "Order");

  if (!order && error instanceof ApiError && error.status === 404) {
    return (
      <div className="page narrow">
        <h1>Order not found</h1>
        <Empty title="We couldn't find this order in your account.">
          <Link to="/orders" className="btn">See your orders</Link>
        </Empty>
      </div>
    );
  }
  if (!order) {
    return (
      <div className="page narrow">
        {loading ? <Loading label="Loading your order…" /> : <ErrorNote error={error} onRetry={() => reload()} />}
      </div>
    );
  }

  async function cancel() {
    setCancelling(true);
    setActionError("");
    try {
      const { position } = await cancelOrder(id);
      toast("Your order has been cancelled");
      reload(position);
    } catch (e) {
      setActionError(errorMessage(e));
    } finally {
      setCancelling(false);
      setConfirming(false);
    }
  }

  const pending = order.status === "pending";
  const cancellable = pending || order.status === "confirmed";
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to="/orders">My orders</Link>
      </nav>
      {placed && order.status !== "cancelled" && (
        <div className="alert alert-ok">
          <strong>Thank you for your order!</strong> We'll email you as it progresses.
        </div>
      )}
      <div className="order-head">
        <div>
          <h1>Order {shortId(order.id)}</h1>
          <p className="muted">Placed {formatDateTime(order.created_at)}</p>
        </div>
        <div className="order-status" aria-live="polite" data-testid="order-status" data-status={order.status}>
          <StatusBadge status={order.status} />
          {pending && (
            <span className="muted small live-hint">
              <span className="spinner spinner-small" aria-hidden="true" /> Confirming payment and stock…
            </span>
          )}
        </div>
      </div>
      <OrderProgress order={order} />
      <ErrorNote error={error} />
      <div className="order-layout">
        <div className="stack">
          <OrderItems order={order} />
          <OrderFacts order={order} />
        </div>
        <div className="stack">
          <OrderTimeline order={order} />
          {cancellable && (
            <section className="panel" aria-labelledby="change-heading">
              <h2 id="change-heading">Changed your mind?</h2>
              {confirming ? (
                <>
                  <p>Cancel this order? {order.status === "confirmed" ? "Your payment will be refunded." : "Nothing will be charged."}</p>
                  <div className="row">
                    <button type="button" className="btn btn-danger" onClick={cancel} disabled={cancelling}>
                      {cancelling ? "Cancelling…" : "Yes, cancel it"}
                    </button>
                    <button type="button" className="btn btn-ghost" onClick={() => setConfirming(false)} disabled={cancelling}>
                      Keep it
                    </button>
                  </div>
                </>
              ) : (
                <>
                  <p className="muted small">You can cancel this order until it ships.</p>
                  <button type="button" className="btn btn-danger-outline" onClick={() => setConfirming(true)}>
                    Cancel order
                  </button>
                </>
              )}
              {actionError && <p className="field-error" role="alert">{actionError}</p>}
            </section>
          )}
        </div>
      </div>
    </div>
  );
}
