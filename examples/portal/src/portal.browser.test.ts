/**
 * The reference page's whole story, in a real browser: Debian's Chromium,
 * driven by playwright-core, against the portal on a fresh SQLite file. Every
 * page visited is scanned with axe-core (no serious or critical violation) and
 * checked for unlabelled form controls; the main pages are photographed into
 * examples/portal/screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqliteEventStore } from "./library.js";
import { DEMO_PATRONS, DEMO_STAFF } from "./seed.js";
import { CHROMIUM, type RunningPortal, SCREENSHOTS, launchBrowser, seriousViolations, startPortal, unlabelledControls } from "./test-support.js";

const { parent, child, adultA, adultB } = DEMO_PATRONS;

/** Without Chromium the suite says it skipped; under CI=true it fails instead (.ci/run installs Chromium). */
const noBrowser = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
if (noBrowser !== undefined && process.env.CI === "true")
  it("the portal's browser suite finds Chromium (required in CI)", () => {
    throw new Error(`The portal's browser suite cannot run in CI: ${noBrowser}.`);
  });
else if (noBrowser !== undefined) console.log(`The portal's browser suite skipped: ${noBrowser}.`);

let browser: Browser;
let running: RunningPortal;
let temp: string | undefined;
const problems: string[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (noBrowser !== undefined) return;
  temp = mkdtempSync(path.join(os.tmpdir(), "portal-browser-"));
  mkdirSync(SCREENSHOTS, { recursive: true });
  running = await startPortal(createSqliteEventStore({ path: path.join(temp, "portal.sqlite") }));
  browser = await launchBrowser();
});
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await running?.stop();
  if (temp !== undefined) rmSync(temp, { recursive: true, force: true });
});

/** After every navigation: the page must pass axe and label every control; the findings are checked at the end of each test. */
const check = async (page: Page) => {
  problems.push(...(await seriousViolations(page)));
  problems.push(...(await unlabelledControls(page)).map((c) => `${new URL(page.url()).pathname}: unlabelled ${c}`));
};
const shoot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

/** A person at their own computer: their own browser context, so their own cookies. */
const person = async (): Promise<Page> => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 }, locale: "en-NZ", timezoneId: "Pacific/Auckland" });
  contexts.push(context);
  return context.newPage();
};

const signIn = async (page: Page, who: { barcode: string; pin: string }) => {
  await page.goto(`${running.url}/sign-in`);
  await check(page);
  await page.getByLabel("Library card barcode").fill(who.barcode);
  await page.getByLabel("PIN").fill(who.pin);
  await go(page, page.getByRole("button", { name: "Sign in" }));
  await page.waitForURL(/\/account/);
  await check(page);
};

const issuePhrase = async (page: Page, direction: "1-way sharing" | "2-way sharing", photograph = false): Promise<string> => {
  await go(page, page.getByRole("link", { name: "Get Share Phrase" }));
  if (photograph) await shoot(page, "get-share-phrase");
  await page.getByLabel(direction).check();
  await go(page, page.getByRole("button", { name: "Get share phrase" }));
  if (photograph) await shoot(page, "share-phrase-shown-once");
  const phrase = (await page.locator("#phrase").textContent())!.trim();
  await go(page, page.getByRole("button", { name: "Create and save" }));
  await page.waitForURL(/\/account/);
  expect(await page.getByRole("status").textContent()).toContain("share phrase is saved and active");
  return phrase;
};

const connect = async (page: Page, barcode: string, phrase: string) => {
  if (!page.url().endsWith("/account/connect")) {
    await go(page, page.getByRole("link", { name: "Connect Account" }));
  }
  await page.getByLabel("Their library card barcode").fill(barcode);
  await page.getByLabel("Share phrase").fill(phrase);
  await go(page, page.getByRole("button", { name: "Connect", exact: true }));
};

/** Clicks what submits a form or follows a link, and waits for the next page to load. */
const go = async (page: Page, target: Locator) => {
  const navigated = page.waitForEvent("framenavigated");
  await target.click();
  await navigated;
  await page.waitForLoadState("load");
  await check(page);
};

const connectedRow = (page: Page, name: string) => page.getByRole("row").filter({ hasText: name });

/** A patron of this test's own, registered at the desk with loans checked out, so no other test's story changes theirs. */
const newPatron = async (p: { id: string; name: string; barcode: string; pin: string }, titles: ReadonlyArray<string>) => {
  await running.portal.directory.addPatron({ id: p.id, name: p.name, barcode: p.barcode, minor: false, pinPlain: p.pin });
  const desk = running.portal.library.staff(DEMO_STAFF.id, { channel: "desk" });
  expect((await desk.registerAccount({ accountId: p.id, barcode: p.barcode, minor: false }))._tag).toBe("Right");
  for (const [i, title] of titles.entries()) {
    const checkedOut = await desk.recordCheckout({ accountId: p.id, loanId: `loan-${p.id}-${i}`, itemId: `item-${p.id}-${i}`, title, dueAt: new Date(Date.now() + 14 * 86_400_000).toISOString() });
    expect(checkedOut._tag).toBe("Right");
  }
  return p;
};

const signInStaff = async (page: Page) => {
  await page.goto(`${running.url}/desk/sign-in`);
  await check(page);
  await page.getByLabel("Staff id").fill(DEMO_STAFF.id);
  await page.getByLabel("PIN").fill(DEMO_STAFF.pin);
  await go(page, page.getByRole("button", { name: "Sign in" }));
  await page.waitForURL(/\/desk$/);
};

describe.skipIf(noBrowser !== undefined)("the patron portal in a browser", () => {
  it("tells the reference page's story from the first share phrase to the removed link", { timeout: 240_000 }, async () => {
    // The parent signs in, notes her barcode and issues a 1-way share phrase.
    const mum = await person();
    await signIn(mum, parent);
    expect(await mum.getByText(`Your barcode: ${parent.barcode}`).isVisible()).toBe(true);
    const phrase = await issuePhrase(mum, "1-way sharing", true);
    expect(phrase).toMatch(/^[a-z0-9]{4}(-[a-z0-9]{1,4})+$/);

    // The child's session connects with her barcode and the phrase.
    const kid = await person();
    await signIn(kid, child);
    await connect(kid, parent.barcode, phrase);
    await kid.waitForURL(/\/account/);
    expect((await kid.getByRole("status").textContent())?.trim()).toBe("Your accounts are now connected.");
    // Read your writes: the very next page already shows the link, each way.
    expect(await connectedRow(kid, parent.name).textContent()).toContain("Yes: manages you");
    expect((await connectedRow(kid, parent.name).getByRole("cell").nth(1).textContent())?.trim()).toBe("No");

    // The parent sees the child as an account she manages, and opens it.
    await mum.goto(`${running.url}/account`);
    await check(mum);
    expect(await connectedRow(mum, child.name).textContent()).toContain("Yes: you manage this account");
    await shoot(mum, "connected-accounts");
    await go(mum, mum.getByRole("link", { name: child.name }));
    await mum.waitForURL(/\/accounts\/nikau$/);
    await check(mum);
    await shoot(mum, "managed-account");

    // She renews the child's loan …
    const wildThings = mum.getByRole("row").filter({ hasText: "Where the Wild Things Are" });
    const dueBefore = await wildThings.getByRole("cell").nth(1).textContent();
    await go(mum, mum.getByRole("button", { name: "Renew Where the Wild Things Are" }));
    expect((await mum.getByRole("status").textContent())?.trim()).toBe("Renewed. The new due date is shown below.");
    await check(mum);
    expect(await wildThings.getByRole("cell").nth(1).textContent()).not.toBe(dueBefore);
    // … cancels a hold …
    await go(mum, mum.getByRole("button", { name: "Cancel hold on The Lorax" }));
    expect((await mum.getByRole("status").textContent())?.trim()).toBe("The hold was cancelled.");
    expect(await mum.getByRole("row").filter({ hasText: "The Lorax" }).count()).toBe(0);
    // … pauses another and resumes it, and changes where it is picked up.
    const hairy = "Hairy Maclary from Donaldson's Dairy";
    await mum.getByRole("row").filter({ hasText: hairy }).getByLabel("Pause until").fill(new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10));
    await go(mum, mum.getByRole("button", { name: `Suspend hold on ${hairy}` }));
    expect(await mum.getByRole("row").filter({ hasText: hairy }).textContent()).toContain("Paused until");
    await go(mum, mum.getByRole("button", { name: `Resume hold on ${hairy}` }));
    expect(await mum.getByRole("row").filter({ hasText: hairy }).textContent()).toContain("Waiting");
    await mum.getByRole("row").filter({ hasText: hairy }).getByLabel("Pickup branch", { exact: true }).selectOption("Takapuna");
    await go(mum, mum.getByRole("button", { name: `Change pickup branch for ${hairy}` }));
    expect(await mum.getByRole("row").filter({ hasText: hairy }).textContent()).toContain("Pick up at Takapuna");
    await check(mum);

    // She is not offered a new hold or an eCheckout for the child …
    expect(await mum.getByRole("button", { name: /place hold/i }).count()).toBe(0);
    expect(await mum.getByRole("button", { name: /checkout/i }).count()).toBe(0);
    expect(await mum.getByText(`To place a new hold or make an eCheckout for ${child.name}, sign in to ${child.name}'s own account.`).isVisible()).toBe(true);
    // … and a forged request for one is refused, with a way to sign in as the child.
    for (const forged of ["holds", "echeckouts"]) {
      await mum.evaluate(
        ({ action }) => {
          const form = document.createElement("form");
          form.method = "post";
          form.action = action;
          const csrf = document.querySelector<HTMLInputElement>("input[name=_csrf]")!.cloneNode() as HTMLInputElement;
          const item = document.createElement("input");
          item.name = "itemId";
          item.value = "item-matilda";
          const branch = document.createElement("input");
          branch.name = "pickupBranch";
          branch.value = "Central City";
          form.append(csrf, item, branch);
          document.body.append(form);
          form.submit();
        },
        { action: `/accounts/nikau/${forged}` },
      );
      await mum.waitForURL(new RegExp(`/accounts/nikau/${forged}$`));
      expect(await mum.getByRole("alert").textContent()).toContain(`New holds and eCheckouts can only be made from the borrower's own account. Sign in as ${child.name} to do that.`);
      expect(await mum.getByRole("link", { name: `Sign in as ${child.name}` }).getAttribute("href")).toBe(`/sign-in?barcode=${child.barcode}`);
      await check(mum);
      if (forged === "holds") await shoot(mum, "forged-hold-refused");
    }
    const childHolds = running.portal.runner.state().loans.accounts.get(child.id)!.holds;
    expect([...childHolds.values()].map((h) => h.title)).not.toContain("Matilda");

    // The child sees nothing of the parent: not her loans, not her page.
    await kid.goto(`${running.url}/account`);
    expect(await kid.getByText("The Luminaries").count()).toBe(0);
    expect(await kid.getByRole("link", { name: parent.name }).count()).toBe(0);
    const response = await kid.goto(`${running.url}/accounts/${parent.id}`);
    expect(response?.status()).toBe(403);
    expect(await kid.getByRole("alert").textContent()).toContain(`Your account isn't connected to ${parent.name} any more`);
    expect(await kid.getByText("The Luminaries").count()).toBe(0);
    await check(kid);
    // And a child's account cannot make a 1-way phrase: it would let the child manage.
    await kid.goto(`${running.url}/account/share-phrase`);
    await kid.getByLabel("1-way sharing").check();
    await go(kid, kid.getByRole("button", { name: "Get share phrase" }));
    expect(await kid.getByRole("alert").textContent()).toContain("A child's account can't manage other accounts");
    await check(kid);

    // Two adults link 2-way, and each manages the other.
    const mere = await person();
    await signIn(mere, adultA);
    const twoWay = await issuePhrase(mere, "2-way sharing");
    const james = await person();
    await signIn(james, adultB);
    await connect(james, adultA.barcode, twoWay);
    await james.waitForURL(/\/account/);
    expect(await connectedRow(james, adultA.name).textContent()).toContain("Yes: you manage this account");
    expect(await connectedRow(james, adultA.name).textContent()).toContain("Yes: manages you");
    await go(james, james.getByRole("link", { name: adultA.name }));
    await go(james, james.getByRole("button", { name: "Renew The Whale Rider" }));
    expect((await james.getByRole("status").textContent())?.trim()).toBe("Renewed. The new due date is shown below.");
    await mere.goto(`${running.url}/account`);
    expect(await connectedRow(mere, adultB.name).textContent()).toContain("Yes: you manage this account");
    await go(mere, mere.getByRole("link", { name: adultB.name }));
    await go(mere, mere.getByRole("button", { name: "Renew Potiki" }));
    expect((await mere.getByRole("status").textContent())?.trim()).toBe("Renewed. The new due date is shown below.");
    await check(mere);

    // A guesser gets one answer whatever was wrong, then is locked out and told until when.
    await james.goto(`${running.url}/account`);
    await connect(james, parent.barcode, "abcd-efgh-jkmn-pq");
    const wrongPhrase = await james.getByRole("alert").textContent();
    await connect(james, "X9999999", "abcd-efgh-jkmn-pq");
    expect(await james.getByRole("alert").textContent()).toBe(wrongPhrase);
    expect(wrongPhrase).toContain("That barcode and share phrase don't match.");
    await connect(james, parent.barcode, "bcde-fghj-kmnp-qr");
    await connect(james, parent.barcode, "cdef-ghjk-mnpq-rs");
    expect(await james.getByRole("alert").textContent()).toContain("too many attempts to connect from your account");
    expect(await james.getByRole("alert").textContent()).toContain("You can try again after");
    expect(await james.getByLabel("Their library card barcode").inputValue()).toBe(parent.barcode);
    await shoot(james, "locked-out");

    // The parent has the child's page open; the child removes the link.
    await mum.goto(`${running.url}/accounts/${child.id}`);
    expect(await mum.getByRole("button", { name: "Renew The Gruffalo" }).isVisible()).toBe(true);
    await kid.goto(`${running.url}/account`);
    await go(kid, kid.getByRole("button", { name: `Remove the connection with ${parent.name}` }));
    expect((await kid.getByRole("status").textContent())?.trim()).toBe("The connection was removed.");
    expect(await kid.getByText("No accounts are connected to yours.").isVisible()).toBe(true);
    // The parent's next page: her renewal is refused, and the child's page is gone.
    await go(mum, mum.getByRole("button", { name: "Renew The Gruffalo" }));
    expect(await mum.getByRole("alert").textContent()).toContain(`Your account isn't connected to ${child.name} any more`);
    await check(mum);
    await mum.goto(`${running.url}/accounts/${child.id}`);
    expect(await mum.getByRole("alert").textContent()).toContain(`isn't connected to ${child.name} any more`);
    expect(await mum.getByText("The Gruffalo").count()).toBe(0);
    await mum.goto(`${running.url}/account`);
    expect(await connectedRow(mum, child.name).count()).toBe(0);

    expect(problems).toEqual([]);
  });

  it("can be used with the keyboard alone: sign in, get a 2-way share phrase, connect", { timeout: 120_000 }, async () => {
    /** Presses Tab until the focused element is the one wanted (by id, or by its visible or accessible name). */
    const tabTo = async (page: Page, wanted: { id: string } | { name: string }) => {
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press("Tab");
        const focused = await page.evaluate(() => {
          const e = document.activeElement as HTMLElement | null;
          return { id: e?.id ?? "", name: (e?.getAttribute("aria-label") ?? e?.innerText ?? "").trim() };
        });
        if ("id" in wanted ? focused.id === wanted.id : focused.name === wanted.name) return;
      }
      throw new Error(`Tab never reached ${JSON.stringify(wanted)} on ${page.url()}`);
    };
    const enter = async (page: Page) => {
      const navigated = page.waitForEvent("framenavigated");
      await page.keyboard.press("Enter");
      await navigated;
      await page.waitForLoadState("load");
      await check(page);
    };
    const signInByKeyboard = async (page: Page, who: { barcode: string; pin: string }) => {
      await page.goto(`${running.url}/sign-in`);
      await tabTo(page, { id: "barcode" });
      await page.keyboard.type(who.barcode);
      await tabTo(page, { id: "pin" });
      await page.keyboard.type(who.pin);
      await enter(page);
      expect(new URL(page.url()).pathname).toBe("/account");
    };

    const mum = await person();
    await signInByKeyboard(mum, parent);
    await tabTo(mum, { name: "Get Share Phrase" });
    await enter(mum);
    await tabTo(mum, { id: "one-way" });
    await mum.keyboard.press("ArrowDown");
    expect(await mum.locator("#two-way").isChecked()).toBe(true);
    await tabTo(mum, { name: "Get share phrase" });
    await enter(mum);
    const phrase = (await mum.locator("#phrase").textContent())!.trim();
    await tabTo(mum, { name: "Create and save" });
    await enter(mum);
    expect(await mum.getByRole("status").textContent()).toBe("Your 2-way share phrase is saved and active.");

    const mere = await person();
    await signInByKeyboard(mere, adultA);
    await tabTo(mere, { name: "Connect Account" });
    await enter(mere);
    await tabTo(mere, { id: "barcode" });
    await mere.keyboard.type(parent.barcode);
    await tabTo(mere, { id: "phrase" });
    await mere.keyboard.type(phrase);
    await enter(mere);
    expect(await mere.getByRole("status").textContent()).toBe("Your accounts are now connected.");
    expect(await connectedRow(mere, parent.name).textContent()).toContain("Yes: you manage this account");
    // And on to the managed account's page, and a renewal there, still by keyboard.
    await tabTo(mere, { name: parent.name });
    await enter(mere);
    await tabTo(mere, { name: "Renew The Luminaries" });
    await enter(mere);
    expect(await mere.getByRole("status").textContent()).toBe("Renewed. The new due date is shown below.");
    expect(problems).toEqual([]);
  });

  it("has an accessibility check that does catch an unlabelled field", async () => {
    const page = await person();
    await page.setContent('<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main><input type="text"></main></body></html>');
    expect((await seriousViolations(page)).join("\n")).toContain("label");
    expect(await unlabelledControls(page)).toHaveLength(1);
  });

  it("lets staff at the desk find a patron, see who manages them and why, revoke a link and close an account", { timeout: 120_000 }, async () => {
    const mere = await person();
    await signIn(mere, adultA);
    const phrase = await issuePhrase(mere, "1-way sharing");
    const kid = await person();
    await signIn(kid, child);
    await connect(kid, adultA.barcode, phrase);
    await kid.waitForURL(/\/account/);

    const desk = await person();
    await desk.goto(`${running.url}/desk/sign-in`);
    await check(desk);
    await desk.getByLabel("Staff id").fill(DEMO_STAFF.id);
    await desk.getByLabel("PIN").fill(DEMO_STAFF.pin);
    await go(desk, desk.getByRole("button", { name: "Sign in" }));
    await desk.waitForURL(/\/desk$/);
    await check(desk);
    await desk.getByLabel("Find a patron by barcode").fill(child.barcode.toLowerCase());
    await go(desk, desk.getByRole("button", { name: "Find" }));
    expect(await desk.getByRole("heading", { name: child.name }).isVisible()).toBe(true);
    const managers = desk.getByRole("region", { name: "Who can manage this account, and why" });
    expect(await managers.textContent()).toContain(adultA.name);
    expect(await managers.textContent()).toContain(`A 1-way link made`);
    expect(await managers.textContent()).toContain(`${adultA.name} made the share phrase and ${child.name} connected with it.`);
    await check(desk);
    await shoot(desk, "staff-desk");

    await go(desk, desk.getByRole("button", { name: `Revoke the link with ${adultA.name}` }));
    expect((await desk.getByRole("status").textContent())?.trim()).toBe("The link was revoked.");
    expect(await managers.textContent()).not.toContain(adultA.name);
    await mere.goto(`${running.url}/accounts/${child.id}`);
    expect(await mere.getByRole("alert").textContent()).toContain(`isn't connected to ${child.name} any more`);

    await go(desk, desk.getByRole("button", { name: "Close this account" }));
    expect((await desk.getByRole("status").textContent())?.trim()).toBe("The account was closed.");
    expect(await desk.getByText(`${child.barcode} · child's account · closed`).isVisible()).toBe(true);
    await check(desk);
    expect(problems).toEqual([]);
  });
  it("lets a patron keep their reading history and download everything held about them, and no one else's", { timeout: 120_000 }, async () => {
    const hana = await newPatron({ id: "hana", name: "Hana Ngata", barcode: "H2000005", pin: "5555" }, ["The Denniston Rose"]);
    const tom = await newPatron({ id: "tom", name: "Tom Brown", barcode: "T2000006", pin: "6666" }, ["Once Were Warriors"]);

    // Hana opens her privacy page from her account: nothing chosen yet, so her history is not kept.
    const page = await person();
    await signIn(page, hana);
    await go(page, page.getByRole("link", { name: "Your privacy" }));
    expect(new URL(page.url()).pathname).toBe("/account/privacy");
    expect(await page.getByLabel("Don't keep my reading history").isChecked()).toBe(true);
    expect(await page.getByLabel("Keep my reading history", { exact: true }).isChecked()).toBe(false);
    expect(await page.locator("#current-choice").textContent()).toContain("Your reading history is not kept: 90 days after");

    // She opts in; the page says so, and the library has it.
    await page.getByLabel("Keep my reading history", { exact: true }).check();
    await go(page, page.getByRole("button", { name: "Save my choice" }));
    expect((await page.getByRole("status").textContent())?.trim()).toBe("Saved: the library will keep your reading history.");
    expect(await page.getByLabel("Keep my reading history", { exact: true }).isChecked()).toBe(true);
    expect(await page.locator("#current-choice").textContent()).toContain("You have chosen to keep your reading history");
    expect(running.portal.runner.state().loans.accounts.get(hana.id)?.keepsHistory).toBe(true);
    await shoot(page, "privacy");
    // A reload (the page as it is, with no notice) keeps it.
    await page.goto(`${running.url}/account/privacy`);
    await check(page);
    expect(await page.getByRole("status").count()).toBe(0);
    expect(await page.getByLabel("Keep my reading history", { exact: true }).isChecked()).toBe(true);
    expect(await page.getByLabel("Don't keep my reading history").isChecked()).toBe(false);

    // She downloads everything held about her: her own loan and her choice, nothing of Tom's.
    const downloading = page.waitForEvent("download");
    await page.getByRole("link", { name: "Download everything we hold about you" }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe("library-data-hana.txt");
    const report = readFileSync((await download.path())!, "utf8");
    expect(report).toContain("Everything the library holds about account hana");
    expect(report).toContain(hana.barcode);
    expect(report).toContain('"The Denniston Rose"');
    expect(report).toContain("keep my reading history");
    expect(report).not.toContain("Once Were Warriors");
    expect(report).not.toContain(tom.barcode);
    const response = await page.request.get(`${running.url}/accounts/me/access-report`);
    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toBe("text/plain; charset=utf-8");
    expect(response.headers()["content-disposition"]).toBe('attachment; filename="library-data-hana.txt"');

    // Tom comes to manage Hana's account (a 1-way link) and can open her page …
    const tomPage = await person();
    await signIn(tomPage, tom);
    const phrase = await issuePhrase(tomPage, "1-way sharing");
    await page.goto(`${running.url}/account`);
    await connect(page, tom.barcode, phrase);
    await page.waitForURL(/\/account/);
    expect((await tomPage.goto(`${running.url}/accounts/${hana.id}`))?.status()).toBe(200);
    expect(await tomPage.getByText("The Denniston Rose").isVisible()).toBe(true);
    // … but not download what is held about her.
    const refused = await tomPage.goto(`${running.url}/accounts/${hana.id}/access-report`);
    expect(refused?.status()).toBe(403);
    expect(await tomPage.getByRole("alert").textContent()).toContain("only they can have it");
    expect(await tomPage.content()).not.toContain(hana.barcode);
    await check(tomPage);
    const forged = await tomPage.request.get(`${running.url}/accounts/${hana.id}/access-report`);
    expect(forged.status()).toBe(403);
    expect(forged.headers()["content-disposition"]).toBeUndefined();
    expect(await forged.text()).not.toContain("Denniston Rose");
    // His own report has his loan and the link, and none of her titles.
    const his = await (await tomPage.request.get(`${running.url}/accounts/me/access-report`)).text();
    expect(his).toContain('"Once Were Warriors"');
    expect(his).toContain(`with account ${hana.id}`);
    expect(his).not.toContain("Denniston Rose");
    // Signed out, there is nothing to download.
    const anonymous = await browser.newContext();
    contexts.push(anonymous);
    const signedOut = await anonymous.request.get(`${running.url}/accounts/me/access-report`, { maxRedirects: 0 });
    expect(signedOut.status()).toBe(303);
    expect(signedOut.headers()["location"]).toBe("/sign-in");
    expect(problems).toEqual([]);
  });

  it("lets staff erase a closed account's personal data, and not an open one's", { timeout: 120_000 }, async () => {
    const rua = await newPatron({ id: "rua", name: "Rua Kenana", barcode: "R2000007", pin: "7777" }, ["The Bone People"]);
    const desk = await person();
    await signInStaff(desk);
    await desk.getByLabel("Find a patron by barcode").fill(rua.barcode);
    await go(desk, desk.getByRole("button", { name: "Find" }));
    expect(await desk.getByText(`${rua.barcode} · adult's account · open`).isVisible()).toBe(true);
    // Open: the desk says it can't be erased yet, and offers no way to.
    expect(await desk.getByText("This account is open. Its personal data can be erased only once it is closed.").isVisible()).toBe(true);
    expect(await desk.getByRole("link", { name: "Erase personal data" }).count()).toBe(0);
    // A forged erasure is refused by the library (account-open), and said so.
    await desk.evaluate(({ action }) => {
      const form = document.createElement("form");
      form.method = "post";
      form.action = action;
      form.append(document.querySelector<HTMLInputElement>("input[name=_csrf]")!.cloneNode() as HTMLInputElement);
      document.body.append(form);
      form.submit();
    }, { action: `/desk/accounts/${rua.id}/erase` });
    await desk.waitForURL(/done=account-open/);
    await check(desk);
    expect(await desk.getByRole("alert").textContent()).toContain("This account is still open, so its personal data can't be erased yet.");
    expect(await desk.getByText(`${rua.barcode} · adult's account · open`).isVisible()).toBe(true);
    expect(running.portal.runner.state().loans.accounts.get(rua.id)?.loans.get("loan-rua-0")?.title).toBe("The Bone People");

    // Closed, it can be: a confirmation first, then the erasure.
    await go(desk, desk.getByRole("button", { name: "Close this account" }));
    expect((await desk.getByRole("status").textContent())?.trim()).toBe("The account was closed.");
    await go(desk, desk.getByRole("link", { name: "Erase personal data" }));
    expect(await desk.getByRole("heading", { name: `Erase the personal data of ${rua.name}?` }).isVisible()).toBe(true);
    await shoot(desk, "desk-erase-confirm");
    await go(desk, desk.getByRole("button", { name: "Yes, erase this account's personal data" }));
    expect((await desk.getByRole("status").textContent())?.trim()).toBe("The account's personal data was erased.");
    expect(await desk.getByText("[erased] · adult's account · closed").isVisible()).toBe(true);
    expect(await desk.getByText("This account's personal data has been erased.").isVisible()).toBe(true);
    expect(await desk.content()).not.toContain(rua.barcode);
    await shoot(desk, "desk-erased");
    // The library forgot it: the loan's title reads [erased], and the old barcode finds no one.
    expect(running.portal.runner.state().loans.accounts.get(rua.id)?.loans.get("loan-rua-0")?.title).toBe("[erased]");
    // So did the portal's own sign-in record: no name, no barcode, no PIN hash.
    expect(running.portal.directory.patronById(rua.id)).toBeUndefined();
    expect(await running.portal.directory.signInPatron(rua.barcode, rua.pin)).toBeUndefined();
    await desk.getByLabel("Find a patron by barcode").fill(rua.barcode);
    await go(desk, desk.getByRole("button", { name: "Find" }));
    expect(await desk.getByRole("alert").textContent()).toBe(`No patron has the barcode ${rua.barcode}.`);
    expect(problems).toEqual([]);
  });
});
