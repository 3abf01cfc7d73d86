/**
 * The app channel: the JSON API a library's phone app calls, over the same
 * library and the same event log as the portal's pages. So a link made in the
 * app is on the portal's next page, and the reverse: there is nothing to sync.
 *
 * A bearer token from barcode and PIN (`POST /api/tokens`) names the account;
 * the token, never the body, says who is acting. Bodies are decoded with io-ts
 * and a bad one is refused with the failing field named. Refusals carry the
 * library's code (a program switches on it) and the portal's words.
 */
import { randomBytes } from "node:crypto";
import { type Context, Hono } from "hono";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import type { AccessView } from "@linked-accounts/projections";
import type { Directory } from "./directory.js";
import type { CommandFailure, DomainError, LinkedAccounts, Patron } from "./library.js";
import type { ConnectedRow, HoldRow, LoanRow } from "./views.js";
import { sayRefusal } from "./words.js";

const TOKEN_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

export interface ApiDeps {
  readonly library: LinkedAccounts;
  readonly directory: Directory;
  readonly fresh: (after?: string | null) => Promise<AccessView>;
  readonly connectedRows: (patron: Patron, view: AccessView) => Promise<ConnectedRow[]>;
  readonly rowsOf: (viewer: string, accountId: string) => { loans: LoanRow[]; holds: HoldRow[] };
}

const Text = (name: string) => new t.Type<string, string, unknown>(name, (u): u is string => typeof u === "string", (u, c) => (typeof u === "string" && u.trim().length > 0 && u.length <= 200 ? t.success(u.trim()) : t.failure(u, c)), t.identity);
const TokenRequest = t.type({ barcode: Text("barcode"), pin: Text("pin") });
const PhraseRequest = t.type({ direction: t.keyof({ "one-way": null, "two-way": null }) });
const ConnectRequest = t.type({ barcode: Text("barcode"), phrase: Text("phrase") });

/** The JSON body decoded, or the name of the first field that is wrong or unknown (never its value). */
const bodyOf = async <P extends t.Props>(c: Context, codec: t.TypeC<P>): Promise<E.Either<string, t.TypeOf<t.TypeC<P>>>> => {
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    return E.left("body (expected JSON)");
  }
  if (typeof json === "object" && json !== null && !Array.isArray(json)) {
    const unknown = Object.keys(json).find((key) => !(key in codec.props));
    if (unknown !== undefined) return E.left(unknown);
  }
  const decoded = codec.decode(json);
  if (E.isRight(decoded)) return decoded;
  const path = decoded.left[0]?.context.map((entry) => entry.key).filter((key) => key !== "" && !/^\d+$/.test(key)) ?? [];
  return E.left(path.length === 0 ? "body" : path.join("."));
};

const invalid = (c: Context, field: string) => c.json({ error: { code: "invalid-input", field, message: `Check the field ${field}.` } }, 400);
const refused = (c: Context, failure: CommandFailure | DomainError) =>
  c.json(
    { error: { code: failure.code, message: sayRefusal(failure), ...("retryAt" in failure ? { retryAt: failure.retryAt } : {}) } },
    failure.code === "too-many-attempts" ? 429 : failure.code === "not-authorised" || failure.code === "self-service-only" ? 403 : 409,
  );

export const apiRoutes = (deps: ApiDeps) => {
  const tokens = new Map<string, { accountId: string; expires: number }>();
  const api = new Hono<{ Variables: { patron: Patron } }>();

  api.post("/tokens", async (c) => {
    const body = await bodyOf(c, TokenRequest);
    if (E.isLeft(body)) return invalid(c, body.left);
    const patron = await deps.directory.signInPatron(body.right.barcode, body.right.pin);
    if (patron === undefined) return c.json({ error: { code: "sign-in-failed", message: "That barcode and PIN don't match." } }, 401);
    const token = randomBytes(32).toString("base64url");
    const expires = Date.now() + TOKEN_LIFETIME_MS;
    tokens.set(token, { accountId: patron.id, expires });
    return c.json({ token, accountId: patron.id, expiresAt: new Date(expires).toISOString() }, 201);
  });

  api.use("*", async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer ([A-Za-z0-9_-]{20,100})$/.exec(header);
    const found = match === null ? undefined : tokens.get(match[1]!);
    if (found === undefined || found.expires < Date.now()) {
      c.header("WWW-Authenticate", "Bearer");
      return c.json({ error: { code: "unauthenticated", message: "Sign in first: POST /api/tokens with barcode and PIN." } }, 401);
    }
    c.set("patron", deps.library.patron(found.accountId, { channel: "app" }));
    await next();
  });

  api.post("/share-phrases", async (c) => {
    const body = await bodyOf(c, PhraseRequest);
    if (E.isLeft(body)) return invalid(c, body.left);
    const issued = await c.get("patron").issueSharePhrase({ direction: body.right.direction });
    if (E.isLeft(issued)) return refused(c, issued.left);
    const { phraseId, phrase, direction, expiresAt, freshness } = issued.right;
    c.header("Cache-Control", "no-store");
    return c.json({ phraseId, phrase, direction, expiresAt, freshness }, 201);
  });

  api.post("/connections", async (c) => {
    const body = await bodyOf(c, ConnectRequest);
    if (E.isLeft(body)) return invalid(c, body.left);
    const connected = await c.get("patron").connectAccount(body.right);
    if (E.isLeft(connected)) return refused(c, connected.left);
    return c.json({ linkId: connected.right.linkId, freshness: connected.right.freshness }, 201);
  });

  api.get("/connected-accounts", async (c) => {
    const patron = c.get("patron");
    const view = await deps.fresh(c.req.query("after"));
    const accounts = await deps.connectedRows(patron, view);
    return c.json({ accounts: accounts.map(({ whyNotYou: _, ...row }) => row), freshness: view.position.toString() });
  });

  api.get("/connected-accounts/:id/loans", async (c) => {
    const patron = c.get("patron");
    const id = c.req.param("id");
    const allowed = await patron.authorize("view", id);
    if (E.isLeft(allowed)) return refused(c, allowed.left);
    const view = await deps.fresh(c.req.query("after"));
    if (!view.canManage(patron.accountId, id)) return refused(c, { code: "not-authorised", message: "" });
    return c.json({ accountId: id, ...deps.rowsOf(patron.accountId, id), freshness: view.position.toString() });
  });

  api.delete("/connected-accounts/:id", async (c) => {
    const patron = c.get("patron");
    const id = c.req.param("id");
    const view = await deps.fresh();
    const links = (await patron.connections()).find((c) => c.accountId === id)?.linkIds ?? [];
    let freshness = view.position.toString();
    for (const linkId of links) {
      const revoked = await patron.revokeLink({ linkId, reason: "Removed in the app" });
      if (E.isLeft(revoked)) return refused(c, revoked.left);
      freshness = revoked.right.freshness;
    }
    return c.json({ removed: links.length, freshness });
  });

  return api;
};
