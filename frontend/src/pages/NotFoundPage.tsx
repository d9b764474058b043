import { useTitle } from "../lib/page";
import { Link } from "../lib/router";

export function NotFoundPage() {
  useTitle("Not found");
  return (
    <div className="page narrow">
      <h1>Page not found</h1>
      <p>There is no page at this address. It may have moved, or the link may be mistyped.</p>
      <Link to="/" className="btn">Go to the catalog</Link>
    </div>
  );
}
