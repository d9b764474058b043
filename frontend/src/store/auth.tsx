/**
 * Who is signed in. Only the bearer token is kept in localStorage (so a reload keeps the session); the role
 * and name come from the login answer or, after a reload, from GET /me.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiError, configureAuth, get, request } from "../api/client";
import type { LoginAnswer, Me, Role } from "../api/types";

const TOKEN_KEY = "shop.token";

export interface Session {
  token: string;
  userId: string;
  role: Role;
  name?: string;
  email?: string;
}

type AuthState =
  | { status: "loading" }
  | { status: "anonymous"; notice?: string }
  | { status: "signed-in"; session: Session };

interface AuthApi {
  state: AuthState;
  session: Session | null;
  isAdmin: boolean;
  login(email: string, password: string): Promise<Session>;
  logout(): Promise<void>;
}

const AuthContext = createContext<AuthApi | null>(null);

let currentToken: string | null = readToken();

function readToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function storeToken(token: string | null): void {
  currentToken = token;
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // private mode: the session lasts until the tab closes
  }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>(() =>
    currentToken ? { status: "loading" } : { status: "anonymous" },
  );

  useEffect(() => {
    configureAuth(
      () => currentToken,
      () => {
        storeToken(null);
        setState({ status: "anonymous", notice: "Your session has ended. Please log in again." });
      },
    );
    const token = currentToken;
    if (!token) return;
    get<Me>("/me")
      .then((me) =>
        setState({
          status: "signed-in",
          session: { token, userId: me.id, role: me.role, name: me.name, email: me.email },
        }),
      )
      .catch((e) => {
        if (e instanceof ApiError && e.status === 401) return; // handled by the 401 hook
        // The server is unreachable: keep the token, act signed out until the next load.
        setState({ status: "anonymous" });
      });
  }, []);

  const login = useCallback(async (email: string, password: string) => {
    const { data } = await request<LoginAnswer>("/auth/login", { method: "POST", body: { email, password } });
    storeToken(data.access_token);
    const session: Session = { token: data.access_token, userId: data.user_id, role: data.role, email };
    setState({ status: "signed-in", session });
    // The name is only on /me; fetch it without holding up the login.
    get<Me>("/me")
      .then((me) =>
        setState((s) =>
          s.status === "signed-in" && s.session.token === data.access_token
            ? { status: "signed-in", session: { ...s.session, name: me.name, email: me.email } }
            : s,
        ),
      )
      .catch(() => {});
    return session;
  }, []);

  const logout = useCallback(async () => {
    try {
      if (currentToken) await request("/auth/logout", { method: "POST" });
    } catch {
      // The token is dropped here whatever the server said.
    }
    storeToken(null);
    setState({ status: "anonymous" });
  }, []);

  const value = useMemo<AuthApi>(() => {
    const session = state.status === "signed-in" ? state.session : null;
    return { state, session, isAdmin: session?.role === "admin", login, logout };
  }, [state, login, logout]);

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthApi {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}
