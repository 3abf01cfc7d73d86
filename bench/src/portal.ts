/**
 * The portal under load: 50 signed-in patrons at once, each renewing its own
 * loan through the portal's pages over HTTP on loopback, as a browser would
 * (POST the form with the session cookie and CSRF token, follow the redirect to
 * the page that shows the renewal). A latency is the whole of that: the command,
 * the wait for the read model to reach its freshness token, and the next page.
 * Client and server share this one Node.js process, so the figures are a floor
 * on what one portal process on this machine serves, not a network test.
 */
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { serve } from "@hono/node-server";
import type { EventStore } from "@linked-accounts/adapters";
import { createPortal, seedDemo } from "@linked-accounts/portal";
import { median } from "./stats.js";

export interface PortalBenchOptions {
  readonly clients?: number;
  readonly renewalsPerClient?: number;
}

const percentile = (values: ReadonlyArray<number>, p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
};
const round = (n: number) => Math.round(n * 100) / 100;

/** One signed-in patron: a cookie jar of one cookie, and the page's CSRF token. */
const signedIn = async (base: string, barcode: string, pin: string) => {
  let cookie = "";
  let csrf = "";
  const request = async (where: string, init: RequestInit = {}) => {
    const response = await fetch(new URL(where, base), { ...init, headers: { ...(init.headers as Record<string, string>), cookie }, redirect: "manual" });
    const set = response.headers.getSetCookie();
    if (set.length > 0) cookie = set.map((c) => c.split(";")[0]).join("; ");
    return response;
  };
  const page = async (response: Response) => {
    let r = response;
    while (r.status === 303) {
      await r.body?.cancel();
      r = await request(r.headers.get("location")!);
    }
    const html = await r.text();
    csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? csrf;
    return { status: r.status, html };
  };
  await page(await request("/sign-in"));
  const form = (fields: Record<string, string>) => ({
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
  });
  const signIn = await page(await request("/sign-in", form({ barcode, pin })));
  if (signIn.status !== 200) throw new Error(`bench: ${barcode} could not sign in (${signIn.status})`);
  return { renew: async (loanId: string) => page(await request(`/accounts/me/loans/${loanId}/renew`, form({}))) };
};

const runOnce = async (store: EventStore, clients: number, renewalsPerClient: number) => {
  const portal = createPortal({ store, pinCost: { N: 2 ** 10, r: 8, p: 1 } });
  await seedDemo(portal);
  const desk = portal.library.staff("bench-desk", { channel: "desk" });
  const dueAt = new Date(Date.now() + 14 * 86_400_000).toISOString();
  for (let i = 0; i < clients; i++) {
    const accountId = `bench-${i}`;
    const barcode = `B${100000 + i}`;
    const registered = await desk.registerAccount({ accountId, barcode, minor: false });
    const checkedOut = await desk.recordCheckout({ accountId, loanId: `bench-loan-${i}`, itemId: `bench-item-${i}`, title: `Benchmark book ${i}`, dueAt });
    if (registered._tag === "Left" || checkedOut._tag === "Left") throw new Error("bench: could not set up the patrons");
    await portal.directory.addPatron({ id: accountId, name: `Bench patron ${i}`, barcode, minor: false, pinPlain: "1234" });
  }
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: portal.app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const patrons = await Promise.all(Array.from({ length: clients }, (_, i) => signedIn(base, `B${100000 + i}`, "1234")));
    // Warm-up: two renewals each, not counted.
    await Promise.all(patrons.map(async (p, i) => { for (let k = 0; k < 2; k++) await p.renew(`bench-loan-${i}`); }));
    const latencies: number[] = [];
    let errors = 0;
    const started = performance.now();
    const cpu = process.cpuUsage();
    await Promise.all(
      patrons.map(async (p, i) => {
        for (let k = 0; k < renewalsPerClient; k++) {
          const t0 = performance.now();
          try {
            const page = await p.renew(`bench-loan-${i}`);
            if (page.status === 200 && page.html.includes("Renewed.")) latencies.push(performance.now() - t0);
            else errors++;
          } catch {
            errors++;
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    return {
      clients,
      renewals: latencies.length + errors,
      errors,
      medianMs: round(median(latencies)),
      p99Ms: round(percentile(latencies, 0.99)),
      maxMs: round(Math.max(...latencies)),
      renewalsPerSecond: round(latencies.length / seconds),
      /** This process's CPU time (client and server together) per renewal: less at the mercy of other load than the latencies. */
      cpuMsPerRenewal: round((used.user + used.system) / 1000 / (latencies.length + errors)),
    };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await portal.close();
    await store.close();
  }
};

export const benchPortal = async (
  stores: ReadonlyArray<{ name: string; open: () => Promise<EventStore> }>,
  options: PortalBenchOptions = {},
): Promise<Record<string, unknown>> => {
  const clients = options.clients ?? 50;
  const renewalsPerClient = options.renewalsPerClient ?? 20;
  const out: Record<string, unknown> = {
    how: `${clients} signed-in patrons at once, ${renewalsPerClient} renewals each of their own loan through the portal over loopback HTTP (POST with cookie and CSRF token, then the redirected page); client and server in one process; latency = POST to rendered next page`,
  };
  for (const { name, open } of stores) {
    const figures = await runOnce(await open(), clients, renewalsPerClient);
    console.log(
      `portal renewals on ${name}: ${figures.renewals} by ${figures.clients} clients, median ${figures.medianMs} ms, p99 ${figures.p99Ms} ms, max ${figures.maxMs} ms, ${figures.errors} errors, ${figures.renewalsPerSecond}/s, ${figures.cpuMsPerRenewal} ms CPU each (client and server)`,
    );
    out[name] = figures;
  }
  return out;
};
