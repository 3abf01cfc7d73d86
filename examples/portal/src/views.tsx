/**
 * The pages, as server-rendered HTML (Hono's JSX). Everything works without
 * JavaScript; the one script only adds a copy button to the share phrase page.
 */
import { raw } from "hono/html";
import type { Child, FC } from "hono/jsx";
import { ERASE_WORDS, formatDate } from "./words.js";

const styles = `
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1a1a1a;background:#f6f6f3}
a{color:#00457c}
a:focus,button:focus,input:focus,select:focus{outline:3px solid #c75000;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:2}
header{background:#00457c;color:#fff;padding:.75rem 1.25rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a{color:#fff}header .brand{font-weight:700;font-size:1.15rem;margin-right:auto;color:#fff;text-decoration:none}
header form{margin:0}
header button{background:#fff;color:#00457c}
main{max-width:52rem;margin:1.5rem auto;padding:0 1.25rem}
section,.card{background:#fff;border:1px solid #d4d4cf;border-radius:.5rem;padding:1rem 1.25rem;margin:0 0 1.25rem}
h1{font-size:1.6rem;margin:.25rem 0 1rem}h2{font-size:1.25rem;margin:.25rem 0 .75rem}h3{font-size:1.05rem;margin:1rem 0 .5rem}
button,.button{font:inherit;background:#00457c;color:#fff;border:0;border-radius:.3rem;padding:.45rem .9rem;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#fff;color:#00457c;border:1px solid #00457c}
button.danger{background:#a4161a}
label{display:block;font-weight:600;margin:.5rem 0 .2rem}
input[type=text],input[type=password],input[type=date],select{font:inherit;padding:.4rem .5rem;border:1px solid #6b6b66;border-radius:.3rem;width:100%;max-width:22rem}
fieldset{border:1px solid #d4d4cf;border-radius:.4rem;margin:.5rem 0 1rem;padding:.5rem 1rem}
legend{font-weight:600}
.choice{display:flex;gap:.6rem;align-items:flex-start;margin:.5rem 0}.choice input{margin-top:.35rem}.choice label{margin:0}
.hint{font-weight:400;color:#4a4a45;margin:0}
.notice{border-left:5px solid #1b7f3b;background:#eef8f0;padding:.75rem 1rem;margin:0 0 1.25rem}
.refusal{border-left:5px solid #a4161a;background:#fbeeee;padding:.75rem 1rem;margin:0 0 1.25rem}
.phrase{font:700 1.6rem/1.3 ui-monospace,Menlo,Consolas,monospace;letter-spacing:.05em;background:#f0f4f8;padding:.6rem 1rem;border-radius:.3rem;display:inline-block}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.5rem .4rem;border-bottom:1px solid #e2e2dd;vertical-align:top}
.actions{display:flex;flex-wrap:wrap;gap:.4rem;align-items:flex-end}.actions form{margin:0;display:flex;gap:.4rem;align-items:flex-end}
.actions label{font-weight:400;font-size:.9rem;margin:0}
.actions input,.actions select{width:auto}
.barcode{font-family:ui-monospace,Menlo,Consolas,monospace}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

export interface Viewer {
  readonly kind: "patron" | "staff";
  readonly name: string;
}

export const Layout: FC<{ title: string; viewer?: Viewer | undefined; csrf: string; children?: Child }> = ({ title, viewer, csrf, children }) => (
  <>
  {raw("<!DOCTYPE html>")}
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · Library account`}</title>
      <style>{raw(styles)}</style>
    </head>
    <body>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <a class="brand" href="/">
          City Libraries
        </a>
        {viewer === undefined ? null : (
          <nav aria-label="Account">
            <span>
              Signed in as <strong>{viewer.name}</strong>
              {viewer.kind === "staff" ? " (staff)" : ""}
            </span>{" "}
            {viewer.kind === "patron" ? <a href="/account">Account</a> : <a href="/desk">Desk</a>}
          </nav>
        )}
        {viewer === undefined ? null : (
          <form method="post" action="/sign-out">
            <Csrf token={csrf} />
            <button type="submit">Sign out</button>
          </form>
        )}
      </header>
      <main id="main">{children}</main>
    </body>
  </html>
  </>
);

export const Csrf: FC<{ token: string }> = ({ token }) => <input type="hidden" name="_csrf" value={token} />;

export const Notice: FC<{ text?: string | undefined }> = ({ text }) =>
  text === undefined ? null : (
    <p class="notice" role="status">
      {text}
    </p>
  );
export const Refusal: FC<{ text?: string | undefined; children?: Child }> = ({ text, children }) =>
  text === undefined ? null : (
    <div class="refusal" role="alert">
      <p style="margin:0">{text}</p>
      {children}
    </div>
  );

export const SignInPage: FC<{ csrf: string; barcode?: string; refusal?: string | undefined; notice?: string | undefined }> = (p) => (
  <Layout title="Sign in" csrf={p.csrf}>
    <h1>Sign in to your library account</h1>
    <Notice text={p.notice} />
    <Refusal text={p.refusal} />
    <section>
      <form method="post" action="/sign-in">
        <Csrf token={p.csrf} />
        <label for="barcode">Library card barcode</label>
        <input type="text" id="barcode" name="barcode" autocomplete="username" required value={p.barcode ?? ""} />
        <label for="pin">PIN</label>
        <input type="password" id="pin" name="pin" autocomplete="current-password" required />
        <p>
          <button type="submit">Sign in</button>
        </p>
      </form>
    </section>
    <p>
      Library staff: <a href="/desk/sign-in">sign in at the desk</a>.
    </p>
  </Layout>
);

export const StaffSignInPage: FC<{ csrf: string; refusal?: string | undefined }> = (p) => (
  <Layout title="Staff sign in" csrf={p.csrf}>
    <h1>Staff sign in</h1>
    <Refusal text={p.refusal} />
    <section>
      <form method="post" action="/desk/sign-in">
        <Csrf token={p.csrf} />
        <label for="staffId">Staff id</label>
        <input type="text" id="staffId" name="staffId" autocomplete="username" required />
        <label for="pin">PIN</label>
        <input type="password" id="pin" name="pin" autocomplete="current-password" required />
        <p>
          <button type="submit">Sign in</button>
        </p>
      </form>
    </section>
  </Layout>
);

export interface ConnectedRow {
  readonly accountId: string;
  readonly name: string;
  readonly barcode: string;
  readonly youManage: boolean;
  readonly managesYou: boolean;
  /** Why the viewer does not manage them though a link joins them (a child's account). */
  readonly whyNotYou?: string | undefined;
}

export interface LoanRow {
  readonly loanId: string;
  readonly title: string;
  readonly dueAt: string;
  readonly format: "physical" | "digital";
  readonly canRenew: boolean;
}
export interface HoldRow {
  readonly holdId: string;
  readonly title: string;
  readonly pickupBranch: string;
  readonly status: "active" | "suspended";
  readonly suspendedUntil: string | null;
  readonly actions: ReadonlyArray<string>;
}

export const BRANCHES = ["Central City", "Grey Lynn", "Ponsonby", "Remuera", "Takapuna"] as const;

export const LoansAndHolds: FC<{ base: string; csrf: string; loans: ReadonlyArray<LoanRow>; holds: ReadonlyArray<HoldRow> }> = (p) => (
  <>
    <section aria-labelledby="checkouts">
      <h2 id="checkouts">Checkouts</h2>
      {p.loans.length === 0 ? (
        <p>Nothing checked out.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Due</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {p.loans.map((loan) => (
              <tr>
                <td>
                  {loan.title}
                  {loan.format === "digital" ? " (eBook)" : ""}
                </td>
                <td>{formatDate(loan.dueAt)}</td>
                <td class="actions">
                  {loan.canRenew ? (
                    <form method="post" action={`${p.base}/loans/${encodeURIComponent(loan.loanId)}/renew`}>
                      <Csrf token={p.csrf} />
                      <button type="submit" aria-label={`Renew ${loan.title}`}>
                        Renew
                      </button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
    <section aria-labelledby="holds">
      <h2 id="holds">Holds</h2>
      {p.holds.length === 0 ? (
        <p>No holds.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {p.holds.map((hold) => {
              const action = (name: string) => `${p.base}/holds/${encodeURIComponent(hold.holdId)}/${name}`;
              const id = (name: string) => `${name}-${hold.holdId}`;
              return (
                <tr>
                  <td>
                    {hold.title}
                    <p class="hint">Pick up at {hold.pickupBranch}</p>
                  </td>
                  <td>{hold.status === "suspended" ? `Paused until ${hold.suspendedUntil === null ? "further notice" : formatDate(hold.suspendedUntil)}` : "Waiting"}</td>
                  <td class="actions">
                    {hold.actions.includes("cancel-hold") ? (
                      <form method="post" action={action("cancel")}>
                        <Csrf token={p.csrf} />
                        <button type="submit" class="danger" aria-label={`Cancel hold on ${hold.title}`}>
                          Cancel
                        </button>
                      </form>
                    ) : null}
                    {hold.actions.includes("suspend-hold") ? (
                      <form method="post" action={action("suspend")}>
                        <Csrf token={p.csrf} />
                        <span>
                          <label for={id("until")}>Pause until</label>
                          <input type="date" id={id("until")} name="until" required />
                        </span>
                        <button type="submit" class="secondary" aria-label={`Suspend hold on ${hold.title}`}>
                          Suspend
                        </button>
                      </form>
                    ) : null}
                    {hold.actions.includes("resume-hold") ? (
                      <form method="post" action={action("resume")}>
                        <Csrf token={p.csrf} />
                        <button type="submit" class="secondary" aria-label={`Resume hold on ${hold.title}`}>
                          Resume
                        </button>
                      </form>
                    ) : null}
                    {hold.actions.includes("change-pickup-branch") ? (
                      <form method="post" action={action("pickup")}>
                        <Csrf token={p.csrf} />
                        <span>
                          <label for={id("branch")}>Pickup branch</label>
                          <select id={id("branch")} name="pickupBranch">
                            {BRANCHES.map((b) => (
                              <option value={b} selected={b === hold.pickupBranch}>
                                {b}
                              </option>
                            ))}
                          </select>
                        </span>
                        <button type="submit" class="secondary" aria-label={`Change pickup branch for ${hold.title}`}>
                          Change pickup branch
                        </button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  </>
);

export const CATALOGUE = [
  { itemId: "item-hungry-caterpillar", title: "The Very Hungry Caterpillar" },
  { itemId: "item-matilda", title: "Matilda" },
  { itemId: "item-bone-people", title: "The Bone People" },
] as const;

export const AccountPage: FC<{
  csrf: string;
  viewer: Viewer;
  barcode: string;
  notice?: string | undefined;
  refusal?: string | undefined;
  connected: ReadonlyArray<ConnectedRow>;
  loans: ReadonlyArray<LoanRow>;
  holds: ReadonlyArray<HoldRow>;
}> = (p) => (
  <Layout title="Account" viewer={p.viewer} csrf={p.csrf}>
    <h1>Account</h1>
    <Notice text={p.notice} />
    <Refusal text={p.refusal} />
    <section aria-labelledby="connected">
      <h2 id="connected">Connected Accounts</h2>
      <p>
        Your barcode: <strong class="barcode">{p.barcode}</strong>
      </p>
      <p class="actions">
        <a class="button" href="/account/share-phrase">
          Get Share Phrase
        </a>
        <a class="button" href="/account/connect">
          Connect Account
        </a>
      </p>
      {p.connected.length === 0 ? (
        <p>No accounts are connected to yours.</p>
      ) : (
        <table>
          <caption class="visually-hidden">Accounts connected to yours</caption>
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">You manage</th>
              <th scope="col">Manages you</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {p.connected.map((row) => (
              <tr>
                <td>
                  {row.youManage ? <a href={`/accounts/${encodeURIComponent(row.accountId)}`}>{row.name}</a> : row.name}
                  <p class="hint barcode">{row.barcode}</p>
                </td>
                <td>
                  {row.youManage ? "Yes: you manage this account" : "No"}
                  {row.whyNotYou === undefined ? null : <p class="hint">{row.whyNotYou}</p>}
                </td>
                <td>{row.managesYou ? "Yes: manages you" : "No"}</td>
                <td>
                  <form method="post" action={`/account/connections/${encodeURIComponent(row.accountId)}/remove`}>
                    <Csrf token={p.csrf} />
                    <button type="submit" class="danger" aria-label={`Remove the connection with ${row.name}`}>
                      Remove
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
    <section aria-labelledby="privacy">
      <h2 id="privacy">Your privacy</h2>
      <p>
        Choose whether the library keeps your reading history, and download everything it holds about you: <a href="/account/privacy">Your privacy</a>
      </p>
    </section>
    <h2>Your checkouts and holds</h2>
    <LoansAndHolds base="/accounts/me" csrf={p.csrf} loans={p.loans} holds={p.holds} />
    <section aria-labelledby="place-hold">
      <h2 id="place-hold">Place a hold</h2>
      <form method="post" action="/accounts/me/holds">
        <Csrf token={p.csrf} />
        <label for="itemId">Title</label>
        <select id="itemId" name="itemId">
          {CATALOGUE.map((item) => (
            <option value={item.itemId}>{item.title}</option>
          ))}
        </select>
        <label for="pickupBranch">Pickup branch</label>
        <select id="pickupBranch" name="pickupBranch">
          {BRANCHES.map((b) => (
            <option value={b}>{b}</option>
          ))}
        </select>
        <p>
          <button type="submit">Place hold</button>
        </p>
      </form>
    </section>
  </Layout>
);

export const SharePhraseChoicePage: FC<{ csrf: string; viewer: Viewer; refusal?: string | undefined }> = (p) => (
  <Layout title="Get Share Phrase" viewer={p.viewer} csrf={p.csrf}>
    <h1>Get Share Phrase</h1>
    <Refusal text={p.refusal} />
    <section>
      <form method="post" action="/account/share-phrase">
        <Csrf token={p.csrf} />
        <fieldset>
          <legend>How should the accounts be shared?</legend>
          <div class="choice">
            <input type="radio" id="one-way" name="direction" value="one-way" checked aria-describedby="one-way-hint" />
            <div>
              <label for="one-way">1-way sharing</label>
              <p class="hint" id="one-way-hint">
                You will see and manage the account that connects with this phrase, and it will not see or manage yours (a parent managing a child's account).
              </p>
            </div>
          </div>
          <div class="choice">
            <input type="radio" id="two-way" name="direction" value="two-way" aria-describedby="two-way-hint" />
            <div>
              <label for="two-way">2-way sharing</label>
              <p class="hint" id="two-way-hint">
                You and the account that connects will each see and manage the other's checkouts and holds.
              </p>
            </div>
          </div>
        </fieldset>
        <button type="submit">Get share phrase</button> <a href="/account">Back to Account</a>
      </form>
    </section>
  </Layout>
);

export const PhraseShownOncePage: FC<{ csrf: string; viewer: Viewer; phrase: string; direction: string; expiresAt: string }> = (p) => (
  <Layout title="Your share phrase" viewer={p.viewer} csrf={p.csrf}>
    <h1>Your share phrase</h1>
    <section>
      <p>
        Copy this {p.direction === "two-way" ? "2-way" : "1-way"} share phrase and keep it somewhere safe. It is shown only this once: the library keeps no copy it could
        show you again.
      </p>
      <p>
        <span class="phrase" id="phrase">
          {p.phrase}
        </span>{" "}
        <button type="button" id="copy" class="secondary" hidden>
          Copy
        </button>
        <span id="copied" role="status"></span>
      </p>
      <p>
        Give it, with your barcode, to the person whose account will connect. It works until {formatDate(p.expiresAt)}, or until you make a new{" "}
        {p.direction === "two-way" ? "2-way" : "1-way"} phrase.
      </p>
      <form method="get" action="/account">
        <input type="hidden" name="saved" value={p.direction} />
        <button type="submit">Create and save</button>
      </form>
    </section>
    <script>{raw(`(function(){var b=document.getElementById("copy");if(!navigator.clipboard)return;b.hidden=false;b.addEventListener("click",function(){navigator.clipboard.writeText(document.getElementById("phrase").textContent.trim()).then(function(){document.getElementById("copied").textContent="Copied.";});});})();`)}</script>
  </Layout>
);

export const ConnectPage: FC<{ csrf: string; viewer: Viewer; refusal?: string | undefined; barcode?: string }> = (p) => (
  <Layout title="Connect Account" viewer={p.viewer} csrf={p.csrf}>
    <h1>Connect Account</h1>
    <Refusal text={p.refusal} />
    <section>
      <p>Enter the barcode and share phrase of the account you are connecting with.</p>
      <form method="post" action="/account/connect">
        <Csrf token={p.csrf} />
        <label for="barcode">Their library card barcode</label>
        <input type="text" id="barcode" name="barcode" required autocomplete="off" value={p.barcode ?? ""} />
        <label for="phrase">Share phrase</label>
        <input type="text" id="phrase" name="phrase" required autocomplete="off" spellcheck={false} />
        <p>
          <button type="submit">Connect</button> <a href="/account">Back to Account</a>
        </p>
      </form>
    </section>
  </Layout>
);

export const ManagedAccountPage: FC<{
  csrf: string;
  viewer: Viewer;
  accountId: string;
  name: string;
  barcode: string;
  notice?: string | undefined;
  refusal?: string | undefined;
  loans: ReadonlyArray<LoanRow>;
  holds: ReadonlyArray<HoldRow>;
}> = (p) => (
  <Layout title={p.name} viewer={p.viewer} csrf={p.csrf}>
    <p>
      <a href="/account">Back to Account</a>
    </p>
    <h1>{p.name}</h1>
    <p>
      Barcode <span class="barcode">{p.barcode}</span>. You manage this account: you can renew its checkouts and change its holds.
    </p>
    <Notice text={p.notice} />
    <Refusal text={p.refusal} />
    <LoansAndHolds base={`/accounts/${encodeURIComponent(p.accountId)}`} csrf={p.csrf} loans={p.loans} holds={p.holds} />
    <p class="hint">
      To place a new hold or make an eCheckout for {p.name}, sign in to {p.name}'s own account.
    </p>
  </Layout>
);

export const RefusedPage: FC<{ csrf: string; viewer?: Viewer | undefined; title: string; text: string; signInAs?: { name: string; barcode: string } | undefined }> = (p) => (
  <Layout title={p.title} viewer={p.viewer} csrf={p.csrf}>
    <h1>{p.title}</h1>
    <Refusal text={p.text}>
      {p.signInAs === undefined ? null : (
        <p>
          <a href={`/sign-in?barcode=${encodeURIComponent(p.signInAs.barcode)}`}>Sign in as {p.signInAs.name}</a>
        </p>
      )}
    </Refusal>
    <p>
      <a href="/">Back to your account</a>
    </p>
  </Layout>
);

export const PrivacyPage: FC<{
  csrf: string;
  viewer: Viewer;
  keeps: boolean;
  current: string;
  retentionDays: number;
  notice?: string | undefined;
  refusal?: string | undefined;
}> = (p) => (
  <Layout title="Your privacy" viewer={p.viewer} csrf={p.csrf}>
    <p>
      <a href="/account">Back to Account</a>
    </p>
    <h1>Your privacy</h1>
    <Notice text={p.notice} />
    <Refusal text={p.refusal} />
    <section aria-labelledby="reading-history">
      <h2 id="reading-history">Your reading history</h2>
      <p id="current-choice">{p.current}</p>
      <form method="post" action="/account/privacy">
        <Csrf token={p.csrf} />
        <fieldset>
          <legend>After you return an item, should the library remember what it was?</legend>
          <div class="choice">
            <input type="radio" id="keep-no" name="keep" value="no" checked={!p.keeps} aria-describedby="keep-no-hint" />
            <div>
              <label for="keep-no">Don't keep my reading history</label>
              <p class="hint" id="keep-no-hint">
                What you borrowed is forgotten {p.retentionDays} days after you return it.
              </p>
            </div>
          </div>
          <div class="choice">
            <input type="radio" id="keep-yes" name="keep" value="yes" checked={p.keeps} aria-describedby="keep-yes-hint" />
            <div>
              <label for="keep-yes">Keep my reading history</label>
              <p class="hint" id="keep-yes-hint">
                The library keeps a list of what you borrowed, so you can look back at it. You can change your mind at any time.
              </p>
            </div>
          </div>
        </fieldset>
        <button type="submit">Save my choice</button>
      </form>
    </section>
    <section aria-labelledby="your-data">
      <h2 id="your-data">What the library holds about you</h2>
      <p>
        A text file with your account, your links with other accounts, your checkouts and holds, your choices, and who did what on your account and when.
      </p>
      <p>
        <a href="/accounts/me/access-report" download>
          Download everything we hold about you
        </a>
      </p>
    </section>
  </Layout>
);

export interface DeskLink {
  readonly linkId: string;
  readonly otherName: string;
  readonly otherBarcode: string;
  readonly direction: string;
  readonly connectedAt: string;
}
export interface DeskGrant {
  readonly name: string;
  readonly barcode: string;
  readonly why: ReadonlyArray<string>;
}

export const DeskPage: FC<{
  csrf: string;
  viewer: Viewer;
  query: string;
  notice?: string | undefined;
  refusal?: string | undefined;
  found?:
    | {
        accountId: string;
        name: string;
        barcode: string;
        minor: boolean;
        closed: boolean;
        erased: boolean;
        managers: ReadonlyArray<DeskGrant>;
        manages: ReadonlyArray<DeskGrant>;
        notInForce: ReadonlyArray<string>;
        links: ReadonlyArray<DeskLink>;
      }
    | undefined;
}> = (p) => (
  <Layout title="Desk" viewer={p.viewer} csrf={p.csrf}>
    <h1>Desk</h1>
    <Notice text={p.notice} />
    <Refusal text={p.refusal} />
    <section>
      <form method="get" action="/desk">
        <label for="find">Find a patron by barcode</label>
        <input type="text" id="find" name="barcode" value={p.query} required />
        <p>
          <button type="submit">Find</button>
        </p>
      </form>
    </section>
    {p.found === undefined ? null : (
      <>
        <section aria-labelledby="patron">
          <h2 id="patron">{p.found.name}</h2>
          <p>
            Barcode <span class="barcode">{p.found.barcode}</span>
            {p.found.minor ? " · child's account" : " · adult's account"}
            {p.found.closed ? " · closed" : " · open"}
          </p>
          {p.found.closed ? null : (
            <form method="post" action={`/desk/accounts/${encodeURIComponent(p.found.accountId)}/close`}>
              <Csrf token={p.csrf} />
              <button type="submit" class="danger">
                Close this account
              </button>
            </form>
          )}
          <h3>Personal data</h3>
          {p.found.erased ? (
            <p>{ERASE_WORDS.erased}</p>
          ) : !p.found.closed ? (
            <p>{ERASE_WORDS.openAccount}</p>
          ) : (
            <p>
              <a class="button" href={`/desk/accounts/${encodeURIComponent(p.found.accountId)}/erase`}>
                Erase personal data
              </a>
            </p>
          )}
        </section>
        <section aria-labelledby="managers">
          <h2 id="managers">Who can manage this account, and why</h2>
          <GrantList grants={p.found.managers} none="Nobody else can manage this account." />
          <h3>Accounts this patron manages</h3>
          <GrantList grants={p.found.manages} none="This patron manages no other account." />
          {p.found.notInForce.length === 0 ? null : (
            <>
              <h3>Links that give less than they seem</h3>
              <ul>
                {p.found.notInForce.map((line) => (
                  <li>{line}</li>
                ))}
              </ul>
            </>
          )}
        </section>
        <section aria-labelledby="links">
          <h2 id="links">Links</h2>
          {p.found.links.length === 0 ? (
            <p>No links in force.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">With</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Connected</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {p.found.links.map((link) => (
                  <tr>
                    <td>
                      {link.otherName} <span class="barcode">{link.otherBarcode}</span>
                    </td>
                    <td>{link.direction}</td>
                    <td>{link.connectedAt}</td>
                    <td>
                      <form method="post" action={`/desk/links/${encodeURIComponent(link.linkId)}/revoke`}>
                        <Csrf token={p.csrf} />
                        <input type="hidden" name="barcode" value={p.found!.barcode} />
                        <button type="submit" class="danger" aria-label={`Revoke the link with ${link.otherName}`}>
                          Revoke
                        </button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </>
    )}
  </Layout>
);

const GrantList: FC<{ grants: ReadonlyArray<DeskGrant>; none: string }> = ({ grants, none }) =>
  grants.length === 0 ? (
    <p>{none}</p>
  ) : (
    <ul>
      {grants.map((g) => (
        <li>
          <strong>{g.name}</strong> <span class="barcode">{g.barcode}</span>
          <ul>
            {g.why.map((w) => (
              <li>{w}</li>
            ))}
          </ul>
        </li>
      ))}
    </ul>
  );

export const EraseConfirmPage: FC<{ csrf: string; viewer: Viewer; accountId: string; name: string; barcode: string }> = (p) => (
  <Layout title="Erase personal data" viewer={p.viewer} csrf={p.csrf}>
    <p>
      <a href={`/desk?account=${encodeURIComponent(p.accountId)}`}>Back to the desk</a>
    </p>
    <h1>Erase the personal data of {p.name}?</h1>
    <section>
      <p>
        Barcode <span class="barcode">{p.barcode}</span> · closed
      </p>
      <p>{ERASE_WORDS.explain}</p>
      <form method="post" action={`/desk/accounts/${encodeURIComponent(p.accountId)}/erase`}>
        <Csrf token={p.csrf} />
        <button type="submit" class="danger">
          Yes, erase this account's personal data
        </button>{" "}
        <a href={`/desk?account=${encodeURIComponent(p.accountId)}`}>No, keep it</a>
      </form>
    </section>
  </Layout>
);
