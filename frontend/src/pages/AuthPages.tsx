import { useState, type FormEvent } from "react";
import { register } from "../api/auth";
import { ApiError, errorMessage } from "../api/client";
import { ErrorNote, TextField } from "../components/ui";
import { sentence } from "../lib/address";
import { useTitle } from "../lib/page";
import { Link, navigate, useLocation } from "../lib/router";
import { useAuth } from "../store/auth";

/** Where to go after logging in: the `next` parameter when it is a path on this site, else the catalog. */
function nextPath(query: URLSearchParams): string {
  const next = query.get("next") ?? "";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function LoginPage() {
  const { login } = useAuth();
  const { query } = useLocation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useTitle("Log in");

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!email.trim() || !password) {
      setError("Enter your email address and password.");
      return;
    }
    setBusy(true);
    setError("");
    try {
      await login(email.trim(), password);
      navigate(nextPath(query), { replace: true });
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? "That email address and password don't match an account."
          : errorMessage(err),
      );
      setBusy(false);
    }
  }

  const next = query.get("next");
  return (
    <div className="page auth-page">
      <form className="panel auth-card" onSubmit={submit} noValidate aria-labelledby="login-heading">
        <h1 id="login-heading">Log in</h1>
        <p className="muted">Welcome back. Log in to see your cart and orders.</p>
        <TextField label="Email" type="email" name="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
        <TextField label="Password" type="password" name="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        <ErrorNote error={error} />
        <button type="submit" className="btn btn-primary btn-block btn-large" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
        <p className="auth-switch">
          New here? <Link to={`/register${next ? `?next=${encodeURIComponent(next)}` : ""}`}>Create an account</Link>
        </p>
      </form>
    </div>
  );
}

type RegisterField = "name" | "email" | "password";

export function validateRegistration(v: Record<RegisterField, string>): Partial<Record<RegisterField, string>> {
  const errors: Partial<Record<RegisterField, string>> = {};
  if (!v.name.trim()) errors.name = "Please enter your name.";
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.email.trim())) errors.email = "Please enter a valid email address.";
  if (v.password.length < 8) errors.password = "Use at least 8 characters.";
  else if (v.password.length > 128) errors.password = "Use at most 128 characters.";
  return errors;
}

export function RegisterPage() {
  const { login } = useAuth();
  const { query } = useLocation();
  const [values, setValues] = useState<Record<RegisterField, string>>({ name: "", email: "", password: "" });
  const [errors, setErrors] = useState<Partial<Record<RegisterField, string>>>({});
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useTitle("Create an account");

  const set = (field: RegisterField) => (e: { target: { value: string } }) =>
    setValues((v) => ({ ...v, [field]: e.target.value }));

  async function submit(e: FormEvent) {
    e.preventDefault();
    const found = validateRegistration(values);
    setErrors(found);
    setError("");
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      await register({
        name: values.name.trim(),
        email: values.email.trim(),
        password: values.password,
      });
      await login(values.email.trim(), values.password);
      navigate(nextPath(query), { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        setErrors({ email: "An account with this email address already exists. Log in instead?" });
      } else if (err instanceof ApiError && Object.keys(err.fieldErrors).length > 0) {
        const mapped: Partial<Record<RegisterField, string>> = {};
        for (const [k, v] of Object.entries(err.fieldErrors)) {
          if (k === "name" || k === "email" || k === "password") mapped[k] = sentence(v);
        }
        setErrors(mapped);
        if (Object.keys(mapped).length === 0) setError(errorMessage(err));
      } else {
        setError(errorMessage(err));
      }
      setBusy(false);
    }
  }

  return (
    <div className="page auth-page">
      <form className="panel auth-card" onSubmit={submit} noValidate aria-labelledby="register-heading">
        <h1 id="register-heading">Create an account</h1>
        <p className="muted">It takes a few seconds, and you can follow your orders afterwards.</p>
        <TextField label="Name" name="name" autoComplete="name" value={values.name} onChange={set("name")} error={errors.name} required />
        <TextField label="Email" type="email" name="email" autoComplete="email" value={values.email} onChange={set("email")} error={errors.email} required />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          value={values.password}
          onChange={set("password")}
          error={errors.password}
          hint="At least 8 characters."
          required
        />
        <ErrorNote error={error} />
        <button type="submit" className="btn btn-primary btn-block btn-large" disabled={busy}>
          {busy ? "Creating your account…" : "Create account"}
        </button>
        <p className="auth-switch">
          Already have an account? <Link to={`/login${query.get("next") ? `?next=${encodeURIComponent(query.get("next")!)}` : ""}`}>Log in</Link>
        </p>
      </form>
    </div>
  );
}
