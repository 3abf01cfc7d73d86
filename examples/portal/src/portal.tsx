/**
 * The patron portal: one Hono application over one linked-accounts library and
 * one event store. Pages are rendered on the server from the read models, which
 * a runner keeps in this process; a page after a change waits for the change's
 * freshness token, and every decision that matters (may this person see or
 * change that account?) is asked of the library, never of the read model.
 */
import { randomBytes } from "node:crypto";
import { type Context, Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { type AccessView, type Explanation, accessOf, accessReportOf, createRunner, linkedLoansOf, readModelsProjection, renderAccessReport } from "@linked-accounts/projections";
import { apiRoutes } from "./api.js";
import { type Directory, type PinCost, createDirectory } from "./directory.js";
import {
  type CommandFailure,
  type DomainError,
  type EventStore,
  type LinkedAccounts,
  type Patron,
  type Policy,
  type SharePhrases,
  ERASED,
  createLinkedAccounts,
  defaultPolicy,
} from "./library.js";
import { type Session, type Sessions, createSessions } from "./sessions.js";
import {
  AccountPage,
  CATALOGUE,
  ConnectPage,
  type ConnectedRow,
  type DeskGrant,
  type DeskLink,
  DeskPage,
  EraseConfirmPage,
  type HoldRow,
  type LoanRow,
  ManagedAccountPage,
  PhraseShownOncePage,
  PrivacyPage,
  RefusedPage,
  SharePhraseChoicePage,
  SignInPage,
  StaffSignInPage,
  type Viewer,
} from "./views.js";
import { ERASE_WORDS, formatTime, sayReadingHistory, sayReadingHistorySaved, sayRefusal } from "./words.js";

export interface PortalOptions {
  readonly store: EventStore;
  readonly phrases?: SharePhrases;
  readonly policy?: Policy;
  readonly pinCost?: PinCost;
  /** Signs the session cookies; a random one per start when not given (sessions then end at restart). */
  readonly cookieSecret?: string;
  /** Mark cookies `Secure` (set it when serving over HTTPS). */
  readonly secureCookies?: boolean;
  /** How often the read models look for new events on their own (default 250 ms). */
  readonly readModelIntervalMs?: number;
}

const DAY_MS = 86_400_000;
const RENEWAL_MS = 14 * DAY_MS;

type Env = { Variables: { session: Session } };

const notices: Record<string, string> = {
  renewed: "Renewed. The new due date is shown below.",
  cancelled: "The hold was cancelled.",
  suspended: "The hold is paused.",
  resumed: "The hold is active again.",
  pickup: "The pickup branch was changed.",
  "hold-placed": "Your hold was placed.",
  connected: "Your accounts are now connected.",
  "already-connected": "Your accounts were already connected that way.",
  removed: "The connection was removed.",
  "saved-one-way": "Your 1-way share phrase is saved and active.",
  "saved-two-way": "Your 2-way share phrase is saved and active.",
  revoked: "The link was revoked.",
  closed: "The account was closed.",
  erased: ERASE_WORDS.done,
  "history-kept": sayReadingHistorySaved(true),
  "history-not-kept": sayReadingHistorySaved(false),
};
const deskRefusals: Record<string, string> = {
  failed: "That couldn't be done: the link or account may already have been changed. The page below shows how things are now.",
  "account-open": sayRefusal({ code: "account-open" }),
};

/** A form field by name: decoded, trimmed text; the failure names the field. */
const formOf = async <P extends Record<string, t.Type<string, string, unknown>>>(c: Context, fields: P): Promise<E.Either<string, { [K in keyof P]: string }>> => {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [name, codec] of Object.entries(fields)) {
    const raw = body[name];
    const decoded = codec.decode(typeof raw === "string" ? raw.trim() : raw);
    if (E.isLeft(decoded)) return E.left(name);
    out[name] = decoded.right;
  }
  return E.right(out as { [K in keyof P]: string });
};
const Filled = new t.Type<string, string, unknown>(
  "Filled",
  (u): u is string => typeof u === "string" && u.length > 0,
  (u, ctx) => (typeof u === "string" && u.length > 0 && u.length <= 200 ? t.success(u) : t.failure(u, ctx)),
  t.identity,
);
const DateField = new t.Type<string, string, unknown>(
  "Date",
  (u): u is string => typeof u === "string",
  (u, ctx) => (typeof u === "string" && /^\d{4}-\d{2}-\d{2}$/.test(u) && !Number.isNaN(Date.parse(u)) ? t.success(u) : t.failure(u, ctx)),
  t.identity,
);
const fieldWords: Record<string, string> = {
  barcode: "the barcode",
  pin: "the PIN",
  phrase: "the share phrase",
  staffId: "the staff id",
  until: "a date to pause until",
  pickupBranch: "a pickup branch",
  itemId: "a title",
  direction: "1-way or 2-way",
  keep: "whether to keep your reading history",
};
const pleaseFill = (field: string) => `Please fill in ${fieldWords[field] ?? field}.`;

/** A link would give this grant, but its manager is a child's account (a 2-way link with a child works one way). */
const onlyForMinor = (e: Explanation): boolean =>
  !e.granted && e.refusals.some((r) => r.code === "manager-is-minor") && !e.refusals.some((r) => r.code === "no-link" || r.code === "link-gives-other-direction" || r.code === "link-revoked");

export const createPortal = (options: PortalOptions) => {
  const { store } = options;
  const policy = options.policy ?? defaultPolicy;
  const library: LinkedAccounts = createLinkedAccounts({
    store,
    ...(options.phrases === undefined ? {} : { phrases: options.phrases }),
    ...(options.policy === undefined ? {} : { policy: options.policy }),
  });
  const runner = createRunner({ source: store, projection: readModelsProjection });
  runner.start({ intervalMs: options.readModelIntervalMs ?? 250 });
  const directory: Directory = createDirectory(options.pinCost === undefined ? {} : { pinCost: options.pinCost });
  const sessions: Sessions = createSessions({
    secret: options.cookieSecret ?? randomBytes(32).toString("base64url"),
    secure: options.secureCookies ?? false,
  });

  /**
   * A catch-up that starts after this call, shared: callers that arrive while
   * one is running all wait for the one next one, rather than each queueing its
   * own behind it (under load, that queue was most of a page's time).
   */
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const startCatchUp = (): Promise<void> => {
    const run = runner.catchUp().then(
      () => undefined,
      (error: unknown) => {
        throw error;
      },
    );
    running = run;
    void run.finally(() => {
      if (running === run) running = undefined;
    }).catch(() => undefined);
    return run;
  };
  const catchUpAfterNow = (): Promise<void> => {
    if (running === undefined) return startCatchUp();
    next ??= running
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return startCatchUp();
      });
    return next;
  };

  /** The read models, at least as fresh as the request's `after` token and as everything stored before it arrived. */
  const fresh = async (after?: string | null): Promise<AccessView> => {
    await catchUpAfterNow();
    // The token is the library's, opaque; a URL can carry anything, so only a token's shape is passed on.
    if (after !== undefined && after !== null && /^\d{1,19}$/.test(after)) await runner.waitFor(after, { timeoutMs: 5_000 });
    return accessOf(runner.state());
  };

  const nameOf = (view: AccessView, accountId: string): string =>
    directory.patronById(accountId)?.name ?? view.account(accountId)?.barcode ?? accountId;
  const barcodeOf = (view: AccessView, accountId: string): string => view.account(accountId)?.barcode ?? directory.patronById(accountId)?.barcode ?? "";

  /** The accounts joined to `me` by a link, with what each side may do, as the library says now. */
  const connectedRows = async (patron: Patron, view: AccessView): Promise<ConnectedRow[]> => {
    const me = patron.accountId;
    const rows: ConnectedRow[] = [];
    for (const { accountId: other, youManage, managesYou } of await patron.connections()) {
      if (!youManage && !managesYou) continue; // a link whose grants are not in force (a closed account)
      const minor = onlyForMinor(view.explain(me, other));
      rows.push({
        accountId: other,
        name: nameOf(view, other),
        barcode: barcodeOf(view, other),
        youManage,
        managesYou,
        whyNotYou: !youManage && minor ? "A child's account can't manage other accounts." : undefined,
      });
    }
    return rows;
  };

  const rowsOf = (viewer: string, accountId: string): { loans: LoanRow[]; holds: HoldRow[] } => {
    const account = linkedLoansOf(runner.state(), viewer).accounts.find((a) => a.accountId === accountId);
    return {
      loans: (account?.loans ?? []).map((l) => ({ loanId: l.loanId, title: l.title, dueAt: l.dueAt, format: l.format, canRenew: l.actions.includes("renew-loan") })),
      holds: (account?.holds ?? [])
        .filter((h): h is typeof h & { status: "active" | "suspended" } => h.status === "active" || h.status === "suspended")
        .map((h) => ({ holdId: h.holdId, title: h.title, pickupBranch: h.pickupBranch, status: h.status, suspendedUntil: h.suspendedUntil, actions: h.actions })),
    };
  };

  const app = new Hono<Env>();
  app.use("*", secureHeaders());

  // The JSON API for the library's app: bearer tokens, no cookies, so no CSRF.
  app.route("/api", apiRoutes({ library, directory, fresh, connectedRows, rowsOf }));

  app.use("*", async (c, next) => {
    const session = await sessions.current(c);
    c.set("session", session);
    c.header("Cache-Control", "no-store");
    if (c.req.method === "POST") {
      const body = await c.req.parseBody();
      if (!sessions.csrfMatches(session, body["_csrf"]))
        return c.html(
          <RefusedPage csrf={session.csrf} title="Please try again" text="This form had expired or did not come from this site. Go back, reload the page and try again." />,
          403,
        );
    }
    await next();
  });

  const viewerOf = (session: Session): Viewer | undefined => {
    if (session.kind === "patron") return { kind: "patron", name: directory.patronById(session.accountId)?.name ?? session.accountId };
    if (session.kind === "staff") return { kind: "staff", name: directory.staffById(session.staffId)?.name ?? session.staffId };
    return undefined;
  };

  /** The signed-in patron, or a redirect to the sign-in page. */
  const patronOf = (c: Context<Env>): { patron: Patron; viewer: Viewer; session: Session } | Response => {
    const session = c.get("session");
    if (session.kind !== "patron") return c.redirect("/sign-in", 303);
    return { patron: library.patron(session.accountId, { channel: "portal" }), viewer: viewerOf(session)!, session };
  };

  app.get("/", (c) => {
    const s = c.get("session");
    return c.redirect(s.kind === "patron" ? "/account" : s.kind === "staff" ? "/desk" : "/sign-in", 303);
  });

  // --- Signing in and out

  app.get("/sign-in", (c) =>
    c.html(
      <SignInPage csrf={c.get("session").csrf} barcode={c.req.query("barcode") ?? ""} notice={c.req.query("out") === undefined ? undefined : "You have signed out."} />,
    ),
  );
  app.post("/sign-in", async (c) => {
    const form = await formOf(c, { barcode: Filled, pin: Filled });
    const csrf = c.get("session").csrf;
    if (E.isLeft(form)) return c.html(<SignInPage csrf={csrf} refusal={pleaseFill(form.left)} />, 400);
    const patron = await directory.signInPatron(form.right.barcode, form.right.pin);
    if (patron === undefined)
      return c.html(<SignInPage csrf={csrf} barcode={form.right.barcode} refusal="That barcode and PIN don't match. Check both and try again." />, 401);
    await sessions.start(c, { kind: "patron", accountId: patron.id });
    return c.redirect("/account", 303);
  });
  app.post("/sign-out", async (c) => {
    await sessions.start(c, { kind: "anonymous" });
    return c.redirect("/sign-in?out=1", 303);
  });
  app.get("/desk/sign-in", (c) => c.html(<StaffSignInPage csrf={c.get("session").csrf} />));
  app.post("/desk/sign-in", async (c) => {
    const form = await formOf(c, { staffId: Filled, pin: Filled });
    const csrf = c.get("session").csrf;
    if (E.isLeft(form)) return c.html(<StaffSignInPage csrf={csrf} refusal={pleaseFill(form.left)} />, 400);
    const staff = await directory.signInStaff(form.right.staffId, form.right.pin);
    if (staff === undefined) return c.html(<StaffSignInPage csrf={csrf} refusal="That staff id and PIN don't match. Check both and try again." />, 401);
    await sessions.start(c, { kind: "staff", staffId: staff.id });
    return c.redirect("/desk", 303);
  });

  // --- Account → Connected Accounts

  const accountPage = async (c: Context<Env>, who: { patron: Patron; viewer: Viewer; session: Session }, extra: { refusal?: string; status?: 400 | 403 | 409 | 429 } = {}) => {
    const view = await fresh(c.req.query("after"));
    const me = who.patron.accountId;
    const done = c.req.query("done") ?? (c.req.query("saved") === undefined ? undefined : `saved-${c.req.query("saved")}`);
    return c.html(
      <AccountPage
        csrf={who.session.csrf}
        viewer={who.viewer}
        barcode={barcodeOf(view, me)}
        notice={done === undefined ? undefined : notices[done]}
        refusal={extra.refusal}
        connected={await connectedRows(who.patron, view)}
        {...rowsOf(me, me)}
      />,
      extra.status ?? 200,
    );
  };

  app.get("/account", async (c) => {
    const who = patronOf(c);
    return who instanceof Response ? who : accountPage(c, who);
  });

  app.get("/account/share-phrase", (c) => {
    const who = patronOf(c);
    if (who instanceof Response) return who;
    return c.html(<SharePhraseChoicePage csrf={who.session.csrf} viewer={who.viewer} />);
  });
  app.post("/account/share-phrase", async (c) => {
    const who = patronOf(c);
    if (who instanceof Response) return who;
    const form = await formOf(c, { direction: t.keyof({ "one-way": null, "two-way": null }) as unknown as t.Type<string, string, unknown> });
    if (E.isLeft(form)) return c.html(<SharePhraseChoicePage csrf={who.session.csrf} viewer={who.viewer} refusal={pleaseFill(form.left)} />, 400);
    const issued = await who.patron.issueSharePhrase({ direction: form.right.direction as "one-way" | "two-way" });
    if (E.isLeft(issued)) return c.html(<SharePhraseChoicePage csrf={who.session.csrf} viewer={who.viewer} refusal={sayRefusal(issued.left)} />, 409);
    return c.html(
      <PhraseShownOncePage csrf={who.session.csrf} viewer={who.viewer} phrase={issued.right.phrase} direction={issued.right.direction} expiresAt={issued.right.expiresAt} />,
    );
  });

  app.get("/account/connect", (c) => {
    const who = patronOf(c);
    if (who instanceof Response) return who;
    return c.html(<ConnectPage csrf={who.session.csrf} viewer={who.viewer} />);
  });
  app.post("/account/connect", async (c) => {
    const who = patronOf(c);
    if (who instanceof Response) return who;
    const form = await formOf(c, { barcode: Filled, phrase: Filled });
    if (E.isLeft(form)) return c.html(<ConnectPage csrf={who.session.csrf} viewer={who.viewer} refusal={pleaseFill(form.left)} />, 400);
    const connected = await who.patron.connectAccount({ barcode: form.right.barcode, phrase: form.right.phrase });
    if (E.isLeft(connected))
      return c.html(
        <ConnectPage csrf={who.session.csrf} viewer={who.viewer} barcode={form.right.barcode} refusal={sayRefusal(connected.left)} />,
        connected.left.code === "too-many-attempts" ? 429 : 400,
      );
    return c.redirect(`/account?after=${connected.right.freshness}&done=${connected.right.linkId === null ? "already-connected" : "connected"}`, 303);
  });

  app.post("/account/connections/:other/remove", async (c) => {
    const who = patronOf(c);
    if (who instanceof Response) return who;
    const other = c.req.param("other");
    const view = await fresh();
    const links = (await who.patron.connections()).find((c) => c.accountId === other)?.linkIds ?? [];
    if (links.length === 0) return accountPage(c, who, { refusal: "That connection had already been removed.", status: 409 });
    let freshness = "0";
    for (const linkId of links) {
      const revoked = await who.patron.revokeLink({ linkId, reason: "Removed in the portal" });
      if (E.isLeft(revoked)) return accountPage(c, who, { refusal: sayRefusal(revoked.left, nameOf(view, other)), status: 409 });
      freshness = revoked.right.freshness;
    }
    return c.redirect(`/account?after=${freshness}&done=removed`, 303);
  });

  // --- Your privacy: the reading-history choice (R19) and the right of access (R20)

  app.get("/account/privacy", async (c) => {
    const who = patronOf(c);
    if (who instanceof Response) return who;
    await fresh(c.req.query("after"));
    const keeps = runner.state().loans.accounts.get(who.patron.accountId)?.keepsHistory ?? false;
    const done = c.req.query("done");
    return c.html(
      <PrivacyPage
        csrf={who.session.csrf}
        viewer={who.viewer}
        keeps={keeps}
        current={sayReadingHistory(keeps, policy.retentionDays)}
        retentionDays={policy.retentionDays}
        notice={done === undefined ? undefined : notices[done]}
      />,
    );
  });
  app.post("/account/privacy", async (c) => {
    const who = patronOf(c);
    if (who instanceof Response) return who;
    const form = await formOf(c, { keep: t.keyof({ yes: null, no: null }) as unknown as t.Type<string, string, unknown> });
    const page = (refusal: string, status: 400 | 409) => {
      const keeps = runner.state().loans.accounts.get(who.patron.accountId)?.keepsHistory ?? false;
      return c.html(
        <PrivacyPage csrf={who.session.csrf} viewer={who.viewer} keeps={keeps} current={sayReadingHistory(keeps, policy.retentionDays)} retentionDays={policy.retentionDays} refusal={refusal} />,
        status,
      );
    };
    if (E.isLeft(form)) return page(pleaseFill(form.left), 400);
    const keep = form.right.keep === "yes";
    // Always the signed-in patron's own account: a manager may not choose for another (R5).
    const chosen = await who.patron.chooseReadingHistory({ accountId: who.patron.accountId, keep });
    if (E.isLeft(chosen)) return page(sayRefusal(chosen.left), 409);
    return c.redirect(`/account/privacy?after=${chosen.right.freshness}&done=${keep ? "history-kept" : "history-not-kept"}`, 303);
  });

  /**
   * Everything the library holds about the signed-in patron, as a text file.
   * Only ever their own: another account's id is refused, even one they manage.
   */
  app.get("/accounts/:id/access-report", async (c) => {
    const who = patronOf(c);
    if (who instanceof Response) return who;
    const me = who.patron.accountId;
    if (targetOf(c, who.patron) !== me)
      return c.html(
        <RefusedPage
          csrf={who.session.csrf}
          viewer={who.viewer}
          title="You can only download your own data"
          text="This download holds everything the library keeps about one person, so only they can have it. Ask them to sign in and download it themselves."
        />,
        403,
      );
    await fresh();
    const report = accessReportOf(runner.state(), me);
    if (report === null) return c.html(<RefusedPage csrf={who.session.csrf} viewer={who.viewer} title="Nothing to download" text={sayRefusal({ code: "account-not-found" })} />, 404);
    const safeId = me.replace(/[^A-Za-z0-9_-]/g, "_");
    return c.body(renderAccessReport(report), 200, {
      "Content-Type": "text/plain; charset=utf-8",
      "Content-Disposition": `attachment; filename="library-data-${safeId}.txt"`,
    });
  });

  // --- An account's loans and holds: the patron's own ("me") or one it manages

  const targetOf = (c: Context<Env>, patron: Patron): string => (c.req.param("id") === "me" ? patron.accountId : c.req.param("id")!);
  const pageOf = (patron: Patron, target: string) => (target === patron.accountId ? "/account" : `/accounts/${encodeURIComponent(target)}`);

  const managedPage = async (c: Context<Env>, who: { patron: Patron; viewer: Viewer; session: Session }, target: string, extra: { refusal?: string; status?: 400 | 403 | 409 } = {}) => {
    // The authority is the library, read afresh: a link revoked a moment ago shows nothing.
    const allowed = await who.patron.authorize("view", target);
    const view = await fresh(c.req.query("after"));
    if (E.isLeft(allowed) || !view.canManage(who.patron.accountId, target))
      return c.html(
        <RefusedPage
          csrf={who.session.csrf}
          viewer={who.viewer}
          title="You can't see this account"
          text={sayRefusal(E.isLeft(allowed) ? allowed.left : { code: "not-authorised", message: "" }, view.account(target) === undefined ? undefined : nameOf(view, target))}
        />,
        403,
      );
    const done = c.req.query("done");
    return c.html(
      <ManagedAccountPage
        csrf={who.session.csrf}
        viewer={who.viewer}
        accountId={target}
        name={nameOf(view, target)}
        barcode={barcodeOf(view, target)}
        notice={done === undefined ? undefined : notices[done]}
        refusal={extra.refusal}
        {...rowsOf(who.patron.accountId, target)}
      />,
      extra.status ?? 200,
    );
  };

  app.get("/accounts/:id", async (c) => {
    const who = patronOf(c);
    if (who instanceof Response) return who;
    const target = targetOf(c, who.patron);
    return target === who.patron.accountId ? c.redirect("/account", 303) : managedPage(c, who, target);
  });

  /** Runs one command on an account's loan or hold, then shows that account's page. */
  const act = (name: string, run: (patron: Patron, target: string, c: Context<Env>) => Promise<E.Either<CommandFailure | string, { freshness: string }>>) => async (c: Context<Env>) => {
    const who = patronOf(c);
    if (who instanceof Response) return who;
    const target = targetOf(c, who.patron);
    const result = await run(who.patron, target, c);
    if (E.isRight(result)) return c.redirect(`${pageOf(who.patron, target)}?after=${result.right.freshness}&done=${name}`, 303);
    const view = await fresh();
    const refusal = typeof result.left === "string" ? result.left : sayRefusal(result.left, nameOf(view, target));
    if (typeof result.left !== "string" && (result.left.code === "not-authorised" || result.left.code === "account-closed"))
      return c.html(<RefusedPage csrf={who.session.csrf} viewer={who.viewer} title="That couldn't be done" text={refusal} />, 403);
    return target === who.patron.accountId ? accountPage(c, who, { refusal, status: 409 }) : managedPage(c, who, target, { refusal, status: 409 });
  };

  app.post(
    "/accounts/:id/loans/:loanId/renew",
    act("renewed", async (patron, target, c) => {
      const loanId = c.req.param("loanId")!;
      await fresh();
      const loan = runner.state().loans.accounts.get(target)?.loans.get(loanId);
      const now = Date.now();
      const dueAt = new Date(Math.max(loan === undefined ? now : Date.parse(loan.dueAt), now) + RENEWAL_MS).toISOString();
      return patron.renewLoan({ accountId: target, loanId, dueAt });
    }),
  );
  app.post(
    "/accounts/:id/holds/:holdId/cancel",
    act("cancelled", (patron, target, c) => patron.cancelHold({ accountId: target, holdId: c.req.param("holdId")! })),
  );
  app.post(
    "/accounts/:id/holds/:holdId/suspend",
    act("suspended", async (patron, target, c) => {
      const form = await formOf(c, { until: DateField });
      if (E.isLeft(form)) return E.left(pleaseFill(form.left));
      return patron.suspendHold({ accountId: target, holdId: c.req.param("holdId")!, until: new Date(`${form.right.until}T12:00:00.000Z`).toISOString() });
    }),
  );
  app.post(
    "/accounts/:id/holds/:holdId/resume",
    act("resumed", (patron, target, c) => patron.resumeHold({ accountId: target, holdId: c.req.param("holdId")! })),
  );
  app.post(
    "/accounts/:id/holds/:holdId/pickup",
    act("pickup", async (patron, target, c) => {
      const form = await formOf(c, { pickupBranch: Filled });
      if (E.isLeft(form)) return E.left(pleaseFill(form.left));
      return patron.changeHoldPickupBranch({ accountId: target, holdId: c.req.param("holdId")!, pickupBranch: form.right.pickupBranch });
    }),
  );

  /**
   * New holds and eCheckouts: the account's own doing only. The portal never
   * offers them on another account's page; a forged request gets the library's
   * answer and a way to sign in as that account.
   */
  const ownOnly = (name: string, run: (patron: Patron, c: Context<Env>) => Promise<E.Either<CommandFailure | string, { freshness: string }>>) => async (c: Context<Env>) => {
    const who = patronOf(c);
    if (who instanceof Response) return who;
    const target = targetOf(c, who.patron);
    if (target !== who.patron.accountId) {
      const view = await fresh();
      const allowed = await who.patron.authorize(name === "hold-placed" ? "place-hold" : "e-checkout", target);
      const failure: CommandFailure | DomainError = E.isLeft(allowed) ? allowed.left : { code: "self-service-only", message: "" };
      const account = view.account(target);
      const them = account === undefined ? undefined : nameOf(view, target);
      return c.html(
        <RefusedPage
          csrf={who.session.csrf}
          viewer={who.viewer}
          title="Sign in to that account to do this"
          text={sayRefusal(failure.code === "not-authorised" || failure.code === "account-closed" ? failure : { code: "self-service-only", message: "" }, them)}
          signInAs={account === undefined || them === undefined ? undefined : { name: them, barcode: account.barcode }}
        />,
        403,
      );
    }
    const result = await run(who.patron, c);
    if (E.isRight(result)) return c.redirect(`/account?after=${result.right.freshness}&done=${name}`, 303);
    return accountPage(c, who, { refusal: typeof result.left === "string" ? result.left : sayRefusal(result.left), status: 409 });
  };
  app.post(
    "/accounts/:id/holds",
    ownOnly("hold-placed", async (patron, c) => {
      const form = await formOf(c, { itemId: Filled, pickupBranch: Filled });
      if (E.isLeft(form)) return E.left(pleaseFill(form.left));
      const item = CATALOGUE.find((i) => i.itemId === form.right.itemId);
      if (item === undefined) return E.left(pleaseFill("itemId"));
      return patron.placeHold({ itemId: item.itemId, title: item.title, pickupBranch: form.right.pickupBranch });
    }),
  );
  app.post(
    "/accounts/:id/echeckouts",
    ownOnly("echeckout", async (patron, c) => {
      const form = await formOf(c, { itemId: Filled });
      if (E.isLeft(form)) return E.left(pleaseFill(form.left));
      const item = CATALOGUE.find((i) => i.itemId === form.right.itemId);
      if (item === undefined) return E.left(pleaseFill("itemId"));
      return patron.eCheckout({ itemId: item.itemId, title: item.title, dueAt: new Date(Date.now() + 21 * DAY_MS).toISOString() });
    }),
  );

  // --- The staff desk

  const staffOf = (c: Context<Env>) => {
    const session = c.get("session");
    if (session.kind !== "staff") return c.redirect("/desk/sign-in", 303);
    return { staff: library.staff(session.staffId, { channel: "desk" }), viewer: viewerOf(session)!, session };
  };

  /** The access graph's explanation of a grant, in words: which link, made when, by whom. */
  const why = (e: Explanation, name: (id: string) => string): string[] =>
    e.granted && !e.self
      ? e.sources.map((s) =>
          s.direction === "one-way"
            ? `A 1-way link made ${formatTime(s.connectedAt)}: ${name(e.manager)} made the share phrase and ${name(e.account)} connected with it.`
            : `A 2-way link made ${formatTime(s.connectedAt)}, when one of the two connected with the other's share phrase.`,
        )
      : [];

  app.get("/desk", async (c) => {
    const who = staffOf(c);
    if (who instanceof Response) return who;
    const query = (c.req.query("barcode") ?? "").trim();
    // After an action the desk comes back to the account by its id: an erased barcode finds no one.
    const byId = (c.req.query("account") ?? "").trim();
    const done = c.req.query("done");
    const view = await fresh(c.req.query("after"));
    const props = { csrf: who.session.csrf, viewer: who.viewer, query, notice: done === undefined ? undefined : notices[done] };
    const refusal = done === undefined ? undefined : deskRefusals[done];
    if (query === "" && byId === "") return c.html(<DeskPage {...props} refusal={refusal} />);
    const account = byId !== "" ? view.account(byId) : (view.account(query.toUpperCase()) ?? view.account(query));
    if (account === undefined) return c.html(<DeskPage {...props} refusal={byId !== "" ? sayRefusal({ code: "account-not-found" }) : `No patron has the barcode ${query}.`} />, 404);
    const id = account.accountId;
    const erased = account.barcode === ERASED;
    if (query === "" && !erased) props.query = account.barcode;
    const name = (a: string) => nameOf(view, a);
    const grant = (manager: string, managed: string, other: string): DeskGrant => ({
      name: name(other),
      barcode: barcodeOf(view, other),
      why: why(view.explain(manager, managed), name),
    });
    const managers = view.managersOf(id).map((m) => grant(m, id, m));
    const manages = view.managedBy(id).map((a) => grant(id, a, a));
    const notInForce: string[] = [];
    const links = new Map<string, DeskLink>();
    for (const other of new Set([...view.managersOf(id), ...view.managedBy(id)])) {
      for (const [m, a] of [
        [id, other],
        [other, id],
      ] as const) {
        const e = view.explain(m, a);
        if (e.granted && !e.self)
          for (const s of e.sources)
            links.set(s.linkId, {
              linkId: s.linkId,
              otherName: name(other),
              otherBarcode: barcodeOf(view, other),
              direction: s.direction === "two-way" ? "2-way" : "1-way",
              connectedAt: formatTime(s.connectedAt),
            });
        if (onlyForMinor(e))
          notInForce.push(`${name(m)} is a child, so the 2-way link with ${name(a)} works one way only: ${name(a)} manages ${name(m)}, not the other way round.`);
      }
    }
    return c.html(
      <DeskPage
        {...props}
        refusal={refusal}
        found={{ accountId: id, name: name(id), barcode: account.barcode, minor: account.minor, closed: account.closed, erased, managers, manages, notInForce, links: [...links.values()] }}
      />,
    );
  });

  const deskAfter = async (c: Context<Env>, result: E.Either<CommandFailure, { freshness: string }>, barcode: string, done: string) => {
    if (E.isRight(result)) return c.redirect(`/desk?barcode=${encodeURIComponent(barcode)}&after=${result.right.freshness}&done=${done}`, 303);
    return c.redirect(`/desk?barcode=${encodeURIComponent(barcode)}&done=failed`, 303);
  };
  app.post("/desk/links/:linkId/revoke", async (c) => {
    const who = staffOf(c);
    if (who instanceof Response) return who;
    const form = await formOf(c, { barcode: Filled });
    const barcode = E.isRight(form) ? form.right.barcode : "";
    return deskAfter(c, await who.staff.revokeLink({ linkId: c.req.param("linkId"), reason: "Revoked at the desk" }), barcode, "revoked");
  });
  app.post("/desk/accounts/:id/close", async (c) => {
    const who = staffOf(c);
    if (who instanceof Response) return who;
    const id = c.req.param("id");
    const view = await fresh();
    return deskAfter(c, await who.staff.closeAccount({ accountId: id }), barcodeOf(view, id), "closed");
  });

  // Erasing a closed account's personal data (R19): a confirmation page, then the library's answer.
  app.get("/desk/accounts/:id/erase", async (c) => {
    const who = staffOf(c);
    if (who instanceof Response) return who;
    const id = c.req.param("id");
    const view = await fresh();
    const account = view.account(id);
    if (account === undefined || account.accountId !== id || account.barcode === ERASED || !account.closed)
      return c.redirect(`/desk?account=${encodeURIComponent(id)}${account !== undefined && !account.closed ? "&done=account-open" : ""}`, 303);
    return c.html(<EraseConfirmPage csrf={who.session.csrf} viewer={who.viewer} accountId={id} name={nameOf(view, id)} barcode={account.barcode} />);
  });
  app.post("/desk/accounts/:id/erase", async (c) => {
    const who = staffOf(c);
    if (who instanceof Response) return who;
    const id = c.req.param("id");
    const erased = await who.staff.eraseAccount({ accountId: id });
    const back = `/desk?account=${encodeURIComponent(id)}`;
    if (E.isRight(erased)) {
      // The portal's own record of the patron goes too: its name and barcode are personal data the library no longer holds.
      directory.forgetPatron(id);
      return c.redirect(`${back}&after=${erased.right.freshness}&done=erased`, 303);
    }
    return c.redirect(`${back}&done=${erased.left.code === "account-open" ? "account-open" : "failed"}`, 303);
  });

  return {
    app,
    library,
    runner,
    directory,
    /** The read models as fresh as everything stored (for tests and the seed). */
    fresh,
    close: async () => {
      await runner.stop();
    },
  };
};

export type Portal = ReturnType<typeof createPortal>;
