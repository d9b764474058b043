/**
 * The signed-in user's cart, shared by the header badge, product pages and the cart page. Every change is a
 * write followed by a read with X-Min-Position, so the cart shown always includes the change just made.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { addCartItem, applyDiscount, getCart, removeCartItem, removeDiscount, setCartItemQuantity } from "../api/cart";
import type { Cart } from "../api/types";
import { useAuth } from "./auth";

interface CartApi {
  cart: Cart | null;
  loading: boolean;
  refresh(minPosition?: string): Promise<Cart | null>;
  add(productId: string, quantity: number): Promise<void>;
  setQuantity(productId: string, quantity: number): Promise<void>;
  remove(productId: string): Promise<void>;
  /** Applies a discount code, replacing any other; a refusal (422) is thrown with the sentence to show. */
  applyDiscount(code: string): Promise<void>;
  removeDiscount(): Promise<void>;
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

  const applyCode = useCallback(
    async (code: string) => {
      const { position } = await applyDiscount(code);
      await refresh(position ?? undefined);
    },
    [refresh],
  );

  const removeCode = useCallback(async () => {
    const { position } = await removeDiscount();
    await refresh(position ?? undefined);
  }, [refresh]);

  const clear = useCallback(() => {
    generation.current++;
    setCart({ items: [], subtotal: null, discount: null, total: null, item_count: 0 });
  }, []);

  const value = useMemo(
    () => ({
      cart, loading, refresh, add, setQuantity, remove, applyDiscount: applyCode, removeDiscount: removeCode, clear,
    }),
    [cart, loading, refresh, add, setQuantity, remove, applyCode, removeCode, clear],
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

/**
 * What to do while the applied code no longer applies (the cart's `discount.reason` says why: an expired code, a
 * subtotal now below its minimum, ...), since checkout would refuse the cart; undefined otherwise.
 */
export function discountNotice(cart: Cart | null | undefined): string | undefined {
  const discount = cart?.discount;
  if (!discount?.reason) return undefined;
  // The reason itself is shown with the cart's totals; this says what to do about it.
  return `The discount code ${discount.code} no longer applies. Remove it from your cart to check out.`;
}

/** Everything that stops checkout now, in one notice for the disabled button; undefined when nothing does. */
export function checkoutNotice(cart: Cart | null | undefined): string | undefined {
  const unavailable = unavailableLines(cart);
  const notices = [unavailable.length > 0 ? unavailableNotice(unavailable) : undefined, discountNotice(cart)];
  return notices.filter(Boolean).join(" ") || undefined;
}

export function useCart(): CartApi {
  const cart = useContext(CartContext);
  if (!cart) throw new Error("useCart outside CartProvider");
  return cart;
}
