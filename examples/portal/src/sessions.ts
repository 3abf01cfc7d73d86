/**
 * Sessions in a signed, HTTP-only, SameSite=Lax cookie, each with its own CSRF
 * token. Every visitor gets one (so the sign-in form is protected too); signing
 * in or out replaces it with a new token. The actor of every command comes from
 * here, never from a form.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import * as t from "io-ts";
import * as E from "fp-ts/lib/Either.js";

const COOKIE = "portal_session";
const LIFETIME_S = 8 * 60 * 60;

const SessionCodec = t.intersection([
  t.type({ csrf: t.string, exp: t.number }),
  t.union([t.type({ kind: t.literal("anonymous") }), t.type({ kind: t.literal("patron"), accountId: t.string }), t.type({ kind: t.literal("staff"), staffId: t.string })]),
]);
export type Session = t.TypeOf<typeof SessionCodec>;
export type Who = { kind: "anonymous" } | { kind: "patron"; accountId: string } | { kind: "staff"; staffId: string };

export const createSessions = (options: { secret: string; secure: boolean; now?: () => number }) => {
  const now = options.now ?? Date.now;

  const read = async (c: Context): Promise<Session | undefined> => {
    const raw = await getSignedCookie(c, options.secret, COOKIE);
    if (typeof raw !== "string") return undefined;
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    } catch {
      return undefined;
    }
    const decoded = SessionCodec.decode(json);
    if (E.isLeft(decoded) || decoded.right.exp < now() / 1000) return undefined;
    return decoded.right;
  };

  const write = async (c: Context, who: Who): Promise<Session> => {
    const session = { ...who, csrf: randomBytes(24).toString("base64url"), exp: Math.floor(now() / 1000) + LIFETIME_S } as Session;
    await setSignedCookie(c, COOKIE, Buffer.from(JSON.stringify(session)).toString("base64url"), options.secret, {
      httpOnly: true,
      sameSite: "Lax",
      secure: options.secure,
      path: "/",
      maxAge: LIFETIME_S,
    });
    return session;
  };

  return {
    /** The visitor's session, starting an anonymous one when there is none. */
    current: async (c: Context): Promise<Session> => (await read(c)) ?? (await write(c, { kind: "anonymous" })),
    read,
    /** A new session (and CSRF token) for who signed in, or anonymous after signing out. */
    start: write,
    end: (c: Context) => deleteCookie(c, COOKIE, { path: "/" }),
    /** The form's token matches the session's (compared in constant time). */
    csrfMatches: (session: Session, token: unknown): boolean => {
      if (typeof token !== "string") return false;
      const a = Buffer.from(token);
      const b = Buffer.from(session.csrf);
      return a.length === b.length && timingSafeEqual(a, b);
    },
  };
};

export type Sessions = ReturnType<typeof createSessions>;
