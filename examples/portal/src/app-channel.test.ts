/**
 * One event log for every channel: a link made in the portal is in the app's
 * JSON API at once, and a link made through the API is on the portal's next
 * page, on the embedded SQLite store and on PostgreSQL. Also the HTTP edges a
 * browser test does not reach: cookies, CSRF, bearer tokens, bad bodies.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { type EventStore, createPostgresEventStore, createSqliteEventStore } from "./library.js";
import { DEMO_PATRONS } from "./seed.js";
import { type RunningPortal, startPortal } from "./test-support.js";

const { parent, child, adultA, adultB } = DEMO_PATRONS;

/** A person in a browser without a browser: one cookie, forms posted with the page's CSRF token, redirects followed. */
const visitor = (base: string) => {
  let cookie = "";
  let last = "";
  const request = async (where: string, init: RequestInit = {}): Promise<Response> => {
    const response = await fetch(new URL(where, base), { ...init, headers: { ...(init.headers as Record<string, string>), cookie }, redirect: "manual" });
    const set = response.headers.getSetCookie();
    if (set.length > 0) cookie = set.map((c) => c.split(";")[0]).join("; ");
    return response;
  };
  const follow = async (response: Response) => {
    let r = response;
    while (r.status === 303 || r.status === 302) r = await request(r.headers.get("location")!);
    last = await r.text();
    return { status: r.status, html: last };
  };
  const csrf = () => /name="_csrf" value="([^"]+)"/.exec(last)?.[1] ?? "";
  return {
    get: async (where: string) => follow(await request(where)),
    post: async (where: string, fields: Record<string, string>, token = csrf()) =>
      follow(
        await request(where, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ _csrf: token, ...fields }).toString(),
        }),
      ),
    signIn: async (who: { barcode: string; pin: string }) => {
      await follow(await request("/sign-in"));
      const page = await follow(
        await request("/sign-in", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ _csrf: csrf(), barcode: who.barcode, pin: who.pin }).toString(),
        }),
      );
      expect(page.status).toBe(200);
      return page;
    },
    rawCookie: () => cookie,
  };
};

/** The phone app: a bearer token from barcode and PIN, then JSON. */
const app = async (base: string, who: { barcode: string; pin: string }) => {
  const tokenResponse = await fetch(new URL("/api/tokens", base), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ barcode: who.barcode, pin: who.pin }),
  });
  expect(tokenResponse.status).toBe(201);
  const { token } = (await tokenResponse.json()) as { token: string };
  const call = async (method: string, where: string, body?: unknown) => {
    const response = await fetch(new URL(where, base), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  return { call };
};

type Row = { accountId: string; youManage: boolean; managesYou: boolean };
const rowsOf = (json: Record<string, unknown>) => json["accounts"] as Row[];

/**
 * PG_TEST_URL names the server (scripts/postgres.sh starts one). Without one the
 * PostgreSQL case says it skipped; under CI=true it fails instead.
 */
const reachPostgres = async (): Promise<{ skip: false; url: string } | { skip: true; reason: string }> => {
  const url = process.env.PG_TEST_URL;
  if (url === undefined || url === "") return { skip: true, reason: "PG_TEST_URL is not set" };
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { skip: false, url };
  } catch (error) {
    return { skip: true, reason: `cannot connect to PG_TEST_URL (${error instanceof Error ? error.message : String(error)})` };
  } finally {
    await client.end().catch(() => undefined);
  }
};
const pgServer = await reachPostgres();
if (pgServer.skip && process.env.CI === "true")
  it("reaches the PostgreSQL server named by PG_TEST_URL (required in CI)", () => {
    throw new Error(`The portal's PostgreSQL case cannot run in CI: ${pgServer.reason}.`);
  });
else if (pgServer.skip) console.log(`The portal on PostgreSQL skipped: ${pgServer.reason}.`);
const schemas: string[] = [];
const temp = mkdtempSync(path.join(os.tmpdir(), "portal-app-"));
afterAll(async () => {
  rmSync(temp, { recursive: true, force: true });
  if (pgServer.skip || schemas.length === 0) return;
  const admin = new pg.Client({ connectionString: pgServer.url });
  await admin.connect();
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

const stores: Array<{ name: string; open: () => Promise<EventStore>; skip: boolean }> = [
  { name: "SQLite", open: async () => createSqliteEventStore({ path: path.join(temp, `${randomUUID()}.sqlite`) }), skip: false },
  {
    name: "PostgreSQL",
    skip: pgServer.skip,
    open: async () => {
      const schema = `portal_test_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
      schemas.push(schema);
      return createPostgresEventStore({ connectionString: pgServer.skip ? "" : pgServer.url, schema });
    },
  },
];

describe.each(stores)("the portal and the app on one event log ($name)", ({ open, skip }) => {
  it.skipIf(skip)("shows a link made in the portal in the app at once, and one made in the app on the portal's next page", async () => {
    const running: RunningPortal = await startPortal(await open());
    try {
      // In the portal: the parent makes a 1-way phrase, the child connects with it.
      const mum = visitor(running.url);
      await mum.signIn(parent);
      await mum.get("/account/share-phrase");
      const shown = await mum.post("/account/share-phrase", { direction: "one-way" });
      const phrase = /id="phrase">([^<]+)</.exec(shown.html)![1]!.trim();
      const kid = visitor(running.url);
      await kid.signIn(child);
      await kid.get("/account/connect");
      const connected = await kid.post("/account/connect", { barcode: parent.barcode, phrase });
      expect(connected.html).toContain("Your accounts are now connected.");

      // At once in the app: the parent manages the child and sees her loans; the child sees nothing of the parent.
      const mumApp = await app(running.url, parent);
      const mine = await mumApp.call("GET", "/api/connected-accounts");
      expect(rowsOf(mine.json)).toEqual([expect.objectContaining({ accountId: child.id, youManage: true, managesYou: false })]);
      const loans = await mumApp.call("GET", `/api/connected-accounts/${child.id}/loans`);
      expect(loans.status).toBe(200);
      expect((loans.json["loans"] as Array<{ title: string }>).map((l) => l.title)).toContain("Where the Wild Things Are");
      const kidApp = await app(running.url, child);
      expect(rowsOf((await kidApp.call("GET", "/api/connected-accounts")).json)).toEqual([
        expect.objectContaining({ accountId: parent.id, youManage: false, managesYou: true }),
      ]);
      const peek = await kidApp.call("GET", `/api/connected-accounts/${parent.id}/loans`);
      expect(peek.status).toBe(403);
      expect(peek.json["error"]).toMatchObject({ code: "not-authorised" });

      // In the app: two adults link 2-way …
      const mereApp = await app(running.url, adultA);
      const issued = await mereApp.call("POST", "/api/share-phrases", { direction: "two-way" });
      expect(issued.status).toBe(201);
      const jamesApp = await app(running.url, adultB);
      const linked = await jamesApp.call("POST", "/api/connections", { barcode: adultA.barcode, phrase: issued.json["phrase"] });
      expect(linked.status).toBe(201);
      // … and the portal's next page shows it, each way.
      const mere = visitor(running.url);
      const page = await mere.signIn(adultA);
      expect(page.html).toContain(adultB.name);
      expect(page.html).toContain("Yes: you manage this account");
      expect(page.html).toContain("Yes: manages you");

      // Removed in the portal: gone from the app at once.
      const removed = await mere.post(`/account/connections/${adultB.id}/remove`, {});
      expect(removed.html).toContain("The connection was removed.");
      expect(rowsOf((await jamesApp.call("GET", "/api/connected-accounts")).json)).toEqual([]);
      expect((await jamesApp.call("GET", `/api/connected-accounts/${adultA.id}/loans`)).status).toBe(403);
    } finally {
      await running.stop();
    }
  });
});

describe("the portal's HTTP edges", () => {
  it("signs its HTTP-only, SameSite=Lax session cookie, refuses a form without the session's CSRF token, and takes the actor only from the session", async () => {
    const running = await startPortal(createSqliteEventStore({ path: path.join(temp, "edges.sqlite") }));
    try {
      const first = await fetch(new URL("/sign-in", running.url));
      const setCookie = first.headers.get("set-cookie") ?? "";
      expect(setCookie).toMatch(/portal_session=/);
      expect(setCookie).toMatch(/HttpOnly/i);
      expect(setCookie).toMatch(/SameSite=Lax/i);

      const mum = visitor(running.url);
      await mum.signIn(parent);
      await mum.get("/account/share-phrase");
      // No token, or another session's token: refused, and nothing issued.
      const other = visitor(running.url);
      await other.get("/sign-in");
      const forged = await mum.post("/account/share-phrase", { direction: "one-way" }, "not-the-token");
      expect(forged.status).toBe(403);
      expect(forged.html).toContain("This form had expired or did not come from this site.");
      expect(forged.html).not.toContain('id="phrase"');

      // A form naming another actor changes nothing: the command runs as the session's patron.
      await mum.get(`/account/connect`);
      const page = await mum.post("/account/connect", { barcode: parent.barcode, phrase: "abcd-efgh-jkmn-pq", accountId: child.id, actor: child.id });
      expect(page.html).toContain("That barcode is your own.");

      // A tampered cookie is no session at all.
      const tampered = mum.rawCookie().replace(/portal_session=([^;.]+)/, (_, v: string) => `portal_session=${v.slice(0, -2)}xx`);
      const response = await fetch(new URL("/account", running.url), { headers: { cookie: tampered }, redirect: "manual" });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/sign-in");

      // The API: no token, a wrong PIN, a bad body, a wrong phrase.
      expect((await fetch(new URL("/api/connected-accounts", running.url))).status).toBe(401);
      const wrongPin = await fetch(new URL("/api/tokens", running.url), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ barcode: parent.barcode, pin: "0000" }) });
      expect(wrongPin.status).toBe(401);
      const kidApp = await app(running.url, child);
      const bad = await kidApp.call("POST", "/api/connections", { barcode: 5, phrase: "x" });
      expect(bad.status).toBe(400);
      expect(bad.json["error"]).toMatchObject({ code: "invalid-input", field: "barcode" });
      const extra = await kidApp.call("POST", "/api/share-phrases", { direction: "two-way", accountId: parent.id });
      expect(extra.status).toBe(400);
      expect(extra.json["error"]).toMatchObject({ code: "invalid-input", field: "accountId" });
      const wrong = await kidApp.call("POST", "/api/connections", { barcode: parent.barcode, phrase: "abcd-efgh-jkmn-pq" });
      expect(wrong.status).toBe(409);
      expect(wrong.json["error"]).toMatchObject({ code: "barcode-or-phrase-not-recognised" });
      expect(JSON.stringify(wrong.json)).not.toContain("abcd-efgh-jkmn-pq");
    } finally {
      await running.stop();
    }
  });
});
