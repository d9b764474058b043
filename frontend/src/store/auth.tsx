/**
 * Who is signed in.
 *
 * The session lives in the `shop_session` cookie that the server sets on login: HttpOnly, Secure,
 * SameSite=Strict, Path=/api/v1. The app never reads, stores or sends the access token itself — not in
 * localStorage, not in sessionStorage, not in memory (the login answer's `access_token` is ignored) — so a
 * script injected into the page cannot read the token and carry it off; the browser attaches the cookie to
 * our own `fetch` calls (src/api/client.ts). Against cross-site request forgery, SameSite=Strict keeps other
 * sites' requests from carrying the cookie, and the server also requires an `X-Requested-With` header on
 * cookie-authenticated writes, which a cross-site form cannot send (the client sends it on every request).
 *
 * Since the page cannot see the cookie, it asks `GET /me` on start: 200 → signed in, 401 → anonymous.
 * After login the user id and role come from the login answer, the name from `/me`. Logout asks the server
 * to deny the token and clear the cookie, and is anonymous here whatever the server said. A 401 while this
 * page believed it was signed in ends the session with a notice.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { getMe, login as logIn, logout as logOut } from "../api/auth";
import { configureAuth } from "../api/client";
import { asRole, type Role } from "../api/types";

/** Where earlier versions kept the bearer token; removed on start so no copy outlives the upgrade. */
const LEGACY_TOKEN_KEY = "shop.token";

export interface Session {
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

const SESSION_ENDED = "Your session has ended. Please log in again.";

function forgetLegacyToken(): void {
  try {
    localStorage.removeItem(LEGACY_TOKEN_KEY);
  } catch {
    // storage unavailable (private mode): nothing there to forget
  }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>({ status: "loading" });
  // Whether this page believes it is signed in, for the 401 hook (which runs outside React's render).
  const signedIn = useRef(false);
  // Bumped on every login, logout and ended session, so a late answer from before cannot overwrite it.
  const epoch = useRef(0);

  const enter = useCallback((session: Session) => {
    signedIn.current = true;
    setState({ status: "signed-in", session });
  }, []);

  const leave = useCallback((notice?: string) => {
    signedIn.current = false;
    epoch.current++;
    setState(notice ? { status: "anonymous", notice } : { status: "anonymous" });
  }, []);

  useEffect(() => {
    forgetLegacyToken();
    configureAuth(() => {
      // Only a session this page knew about can end; a 401 for an anonymous visitor is just a refusal.
      if (signedIn.current) leave(SESSION_ENDED);
    });
    const mine = epoch.current;
    getMe()
      .then((me) => {
        if (mine !== epoch.current) return;
        enter({ userId: me.id, role: asRole(me.role), name: me.name, email: me.email });
      })
      .catch(() => {
        // 401: no session cookie (or an expired one). Anything else: the server is unreachable; act signed
        // out until the next load. Either way, no notice: this page never believed it was signed in.
        if (mine !== epoch.current) return;
        setState({ status: "anonymous" });
      });
    return () => configureAuth(() => {});
  }, [enter, leave]);

  const login = useCallback(
    async (email: string, password: string) => {
      const answer = await logIn({ email, password });
      // The answer's access_token is deliberately not kept: the HttpOnly cookie set with it is the session.
      const session: Session = { userId: answer.user_id, role: asRole(answer.role), email };
      const mine = ++epoch.current;
      enter(session);
      // The name is only on /me; fetch it without holding up the login.
      getMe()
        .then((me) => {
          if (mine !== epoch.current) return;
          setState((s) =>
            s.status === "signed-in" && s.session.userId === me.id
              ? { status: "signed-in", session: { ...s.session, name: me.name, email: me.email } }
              : s,
          );
        })
        .catch(() => {});
      return session;
    },
    [enter],
  );

  const logout = useCallback(async () => {
    // Signed out here first, so a 401 from the logout itself (an already expired cookie) brings no notice.
    signedIn.current = false;
    epoch.current++;
    try {
      await logOut();
    } catch {
      // Anonymous here whatever the server said.
    }
    leave();
  }, [leave]);

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
