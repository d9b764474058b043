import { listOrders } from "../api/orders";
import { Empty, ErrorNote, Loading, Pagination, Price, StatusBadge } from "../components/ui";
import { formatDate, plural, shortId } from "../lib/format";
import { useTitle } from "../lib/page";
import { Link, navigate, useLocation } from "../lib/router";
import { useFetch } from "../lib/useFetch";
import { useAuth } from "../store/auth";

export function OrdersPage() {
  const { query } = useLocation();
  const page = Math.max(1, Number(query.get("page")) || 1);
  const { session } = useAuth();
  // An administrator's GET /orders lists everyone's: "my orders" asks for their own.
  const orders = useFetch(`${session?.userId}|${page}`, (signal) =>
    listOrders({ page, limit: 10, user_id: session?.userId }, { signal }),
  );
  useTitle("My orders");
  const data = orders.data;
  return (
    <div className="page">
      <h1>My orders</h1>
      <ErrorNote error={orders.error} onRetry={orders.reload} />
      {!data && orders.loading && <Loading label="Loading your orders…" />}
      {data && data.items.length === 0 && (
        <Empty title="You haven't ordered anything yet">
          <Link to="/" className="btn btn-primary">Start shopping</Link>
        </Empty>
      )}
      {data && data.items.length > 0 && (
        <ul className="order-list">
          {data.items.map((o) => (
            <li key={o.id}>
              <Link to={`/orders/${o.id}`} className="order-row">
                <span className="order-row-id">
                  <strong>Order {shortId(o.id)}</strong>
                  <span className="muted small">{formatDate(o.created_at)}</span>
                </span>
                <span className="muted">{plural(o.item_count, "item")}</span>
                <Price money={o.total} />
                <StatusBadge status={o.status} />
              </Link>
            </li>
          ))}
        </ul>
      )}
      {data && (
        <Pagination
          page={data.page}
          pages={data.pages}
          href={(n) => `/orders?page=${n}`}
          onPage={(n) => navigate(`/orders?page=${n}`)}
          label="Order pages"
        />
      )}
    </div>
  );
}
