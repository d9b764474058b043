/**
 * The signed-in user's cart, shared by the header badge, product pages and the cart page. Every change is a
 * write followed by a read with X-Min-Position, so the cart shown always includes the change just made.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { addCartItem, getCart, removeCartItem, setCartItemQuantity } from "../api/cart";
import type { Cart } from "../api/types";
import { useAuth } from "./auth";

interface CartApi {
  cart: Cart | null;
  loading: boolean;
  refresh(minPosition?: string): Promise<Cart | null>;
  add(productId: string, quantity: number): Promise<void>;
  setQuantity(productId: string, quantity: number): Promise<void>;
  remove(productId: string): Promise<void>;
  /** After checkout: the server emptied it. */
  clear(): void;
}

const CartContext = createContext<CartApi | null>(null);

export function CartProvider({ children }: { children: ReactNode }) {
  const { session } = useAuth();
  const [cart, setCart] = useState<Cart | null>(null);
  const [loading, setLoading] = useState(false);
  // Answers can arrive out of order; only the latest request may set the cart.
  const generation = useRef(0);
  // Whose cart: a new sign-in (or sign-out) starts over.
  const userId = session?.userId;

  const refresh = useCallback(
    async (minPosition?: string) => {
      if (!userId) return null;
      const mine = ++generation.current;
      setLoading(true);
      try {
        const fresh = await getCart({ minPosition });
        if (mine === generation.current) setCart(fresh);
        return fresh;
      } finally {
        if (mine === generation.current) setLoading(false);
      }
    },
    [userId],
  );

  useEffect(() => {
    generation.current++;
    setCart(null);
    if (userId) refresh().catch(() => {});
  }, [userId, refresh]);

  const add = useCallback(
    async (productId: string, quantity: number) => {
      const { position } = await addCartItem({ product_id: productId, quantity });
      await refresh(position ?? undefined);
    },
    [refresh],
  );

  const setQuantity = useCallback(
    async (productId: string, quantity: number) => {
      const { position } = await setCartItemQuantity(productId, quantity);
      await refresh(position ?? undefined);
    },
    [refresh],
  );

  const remove = useCallback(
    async (productId: string) => {
      const { position } = await removeCartItem(productId);
      await refresh(position ?? undefined);
    },
    [refresh],
  );

  const clear = useCallback(() => {
    generation.current++;
    setCart({ items: [], total: null, item_count: 0 });
  }, []);

  const value = useMemo(
    () => ({ cart, loading, refresh, add, setQuantity, remove, clear }),
    [cart, loading, refresh, add, setQuantity, remove, clear],
  );
  return <CartContext.Provider value={value}>{children}</CartContext.Provider>;
}

/** The lines whose product is no longer sold (`available: false`): checkout refuses the cart until they go. */
export function unavailableLines(cart: Cart | null | undefined): Cart["items"] {
  return cart?.items.filter((line) => line.available === false) ?? [];
}

/** Why checkout is refused while some lines are no longer available; the cart and checkout pages say it. */
export function unavailableNotice(lines: Cart["items"]): string {
  const what = lines.length === 1 ? `${lines[0].name} is` : `${lines.length} items in your cart are`;
  return `${what} no longer available. Remove ${lines.length === 1 ? "it" : "them"} from your cart to check out.`;
}

export function useCart(): CartApi {
  const cart = useContext(CartContext);
  if (!cart) throw new Error("useCart outside CartProvider");
  return cart;
}
