import { useState, type FormEvent } from "react";
import { ApiError, errorMessage } from "../api/client";
import { cancelOrder, deliverOrder, listOrders, shipOrder } from "../api/orders";
import { isOrderStatus, ORDER_STATUSES, type Shipment } from "../api/types";
import { OrderFacts, OrderItems, OrderProgress, OrderTimeline } from "../components/OrderDetails";
import { Empty, ErrorNote, Loading, Pagination, Price, StatusBadge, TextField } from "../components/ui";
import { formatDateTime, plural, shortId, statusLabel } from "../lib/format";
import { useTitle } from "../lib/page";
import { Link, navigate, useLocation } from "../lib/router";
import { useFetch } from "../lib/useFetch";
import { useOrder } from "../lib/useOrder";
import { useToast } from "../store/toast";

function ordersUrl(status: string, page: number): string {
  const params = new URLSearchParams();
  if (status) params.set("status", status);
  if (page > 1) params.set("page", String(page));
  const s = params.toString();
  return `/admin/orders${s ? `?${s}` : ""}`;
}

export function AdminOrdersPage() {
  const { query } = useLocation();
  const wanted = query.get("status");
  const status = isOrderStatus(wanted) ? wanted : "";
  const page = Math.max(1, Number(query.get("page")) || 1);
  const orders = useFetch(`${status}|${page}`, (signal) =>
    listOrders({ status, page, limit: 25 }, { signal }),
  );
  useTitle("Orders · Back office");
  const data = orders.data;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Orders</h1>
        <div className="field field-inline">
          <label htmlFor="order-status-filter">Status</label>
          <select id="order-status-filter" value={status} onChange={(e) => navigate(ordersUrl(e.target.value, 1), { keepScroll: true })}>
            <option value="">All statuses</option>
            {ORDER_STATUSES.map((s) => <option key={s} value={s}>{statusLabel(s)}</option>)}
          </select>
        </div>
      </div>
      <ErrorNote error={orders.error} onRetry={orders.reload} />
      {!data && orders.loading && <Loading />}
      {data && data.items.length === 0 && <Empty title={status ? `No ${statusLabel(status).toLowerCase()} orders` : "No orders yet"} />}
      {data && data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Orders</caption>
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Placed</th>
                <th scope="col" className="num">Items</th>
                <th scope="col" className="num">Total</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((o) => (
                <tr key={o.id}>
                  <td><Link to={`/admin/orders/${o.id}`} title={o.id}>{shortId(o.id)}</Link></td>
                  <td>{formatDateTime(o.created_at)}</td>
                  <td className="num">{o.item_count}</td>
                  <td className="num"><Price money={o.total} /></td>
                  <td><StatusBadge status={o.status} /></td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted small">{plural(data.total, "order")}</p>
        </div>
      )}
      {data && <Pagination page={data.page} pages={data.pages} href={(n) => ordersUrl(status, n)} onPage={(n) => navigate(ordersUrl(status, n))} />}
    </div>
  );
}

export function AdminOrderPage({ id }: { id: string }) {
  const { order, error, loading, reload } = useOrder(id);
  const toast = useToast();
  const [busy, setBusy] = useState("");
  const [actionError, setActionError] = useState("");
  const [tracking, setTracking] = useState("");
  useTitle(order ? `Order ${shortId(order.id)} · Back office` : "Order · Back office");

  async function act(action: "ship" | "deliver" | "cancel", shipment?: Shipment) {
    setBusy(action);
    setActionError("");
    try {
      const { position } = await (action === "ship"
        ? shipOrder(id, shipment)
        : action === "deliver"
          ? deliverOrder(id)
          : cancelOrder(id));
      toast(action === "ship" ? "Marked as shipped" : action === "deliver" ? "Marked as delivered" : "Order cancelled");
      reload(position);
    } catch (e) {
      setActionError(errorMessage(e));
    } finally {
      setBusy("");
    }
  }

  function ship(e: FormEvent) {
    e.preventDefault();
    act("ship", tracking.trim() ? { tracking_number: tracking.trim() } : {});
  }

  if (!order) {
    if (error instanceof ApiError && error.status === 404) {
      return <div className="page narrow"><h1>Order not found</h1><Link to="/admin/orders" className="btn">All orders</Link></div>;
    }
    return <div className="page narrow">{loading ? <Loading /> : <ErrorNote error={error} onRetry={() => reload()} />}</div>;
  }
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumb"><Link to="/admin/orders">Orders</Link></nav>
      <div className="order-head">
        <div>
          <h1>Order {shortId(order.id)}</h1>
          <p className="muted small">
            {order.id} · placed {formatDateTime(order.created_at)} · customer <code title={order.user_id}>{shortId(order.user_id)}</code> ·{" "}
            <Link to={`/admin/audit/order/${order.id}`}>event history</Link>
          </p>
        </div>
        <div className="order-status" data-testid="order-status" data-status={order.status} aria-live="polite">
          <StatusBadge status={order.status} />
        </div>
      </div>
      <OrderProgress order={order} />
      <section className="panel actions-panel" aria-labelledby="actions-heading">
        <h2 id="actions-heading">Actions</h2>
        {order.status === "confirmed" && (
          <form className="row" onSubmit={ship}>
            <TextField label="Tracking number (optional)" name="tracking_number" value={tracking} onChange={(e) => setTracking(e.target.value)} />
            <button type="submit" className="btn btn-primary" disabled={!!busy}>{busy === "ship" ? "Shipping…" : "Mark as shipped"}</button>
          </form>
        )}
        {order.status === "shipped" && (
          <button type="button" className="btn btn-primary" onClick={() => act("deliver")} disabled={!!busy}>
            {busy === "deliver" ? "Saving…" : "Mark as delivered"}
          </button>
        )}
        {(order.status === "pending" || order.status === "confirmed") && (
          <button type="button" className="btn btn-danger-outline" onClick={() => act("cancel")} disabled={!!busy}>
            {busy === "cancel" ? "Cancelling…" : "Cancel order"}
          </button>
        )}
        {order.status === "pending" && <p className="muted small">Waiting for payment and stock; it can be shipped once confirmed.</p>}
        {(order.status === "delivered" || order.status === "cancelled") && <p className="muted small">Nothing left to do for this order.</p>}
        {actionError && <p className="field-error" role="alert">{actionError}</p>}
      </section>
      <div className="order-layout">
        <div className="stack">
          <OrderItems order={order} />
          <OrderFacts order={order} />
        </div>
        <OrderTimeline order={order} />
      </div>
    </div>
  );
}
