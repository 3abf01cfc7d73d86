/**
 * Test helpers: a portal on a random loopback port with the demo data and
 * cheap hashing, Debian's Chromium driven by playwright-core, and an axe-core
 * scan that fails on any serious or critical violation.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type Browser, type Page, chromium } from "playwright-core";
import { type EventStore, makePolicy, scryptSharePhrases } from "./library.js";
import { type Portal, createPortal } from "./portal.js";
import { seedDemo } from "./seed.js";

export const SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "screenshots");

/** A guesser is locked out after 3 failed attempts here (the library's default is 10 an hour). */
export const TEST_POLICY = makePolicy({ connectorLockout: { maxFailures: 3, windowMs: 60 * 60_000, lockMs: 60 * 60_000 } });

export interface RunningPortal {
  readonly url: string;
  readonly portal: Portal;
  stop(): Promise<void>;
}

export const startPortal = async (store: EventStore): Promise<RunningPortal> => {
  const portal = createPortal({
    store,
    phrases: scryptSharePhrases({ cost: { N: 2 ** 12, r: 8, p: 1 } }),
    policy: TEST_POLICY,
    pinCost: { N: 2 ** 10, r: 8, p: 1 },
    readModelIntervalMs: 1_000,
  });
  await seedDemo(portal);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: portal.app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    portal,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await portal.close();
      await store.close();
    },
  };
};

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: ReadonlyArray<{ readonly target: ReadonlyArray<string> }>;
}

/** The serious and critical axe-core violations on the page as it is now (WCAG 2.x A and AA, and best practice). */
export const seriousViolations = async (page: Page): Promise<string[]> => {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${new URL(page.url()).pathname}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
};

/** Every form control on the page has a name a screen reader reads out (a label, aria-label or aria-labelledby). */
export const unlabelledControls = (page: Page): Promise<string[]> =>
  page.evaluate(() =>
    [...document.querySelectorAll("input:not([type=hidden]), select, textarea, button")]
      .filter((el) => {
        const e = el as HTMLInputElement;
        const labelled = (e.labels?.length ?? 0) > 0 || e.getAttribute("aria-label") || e.getAttribute("aria-labelledby");
        const text = el.tagName === "BUTTON" && (el.textContent ?? "").trim() !== "";
        return !labelled && !text;
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
