/**
 * Every refusal in words a person wants to read: what happened and what to do
 * next. No code and no rule number reaches a page; the codes stay for the JSON
 * API, which a program reads.
 */

const timeFormat = new Intl.DateTimeFormat("en-NZ", { dateStyle: "medium", timeStyle: "short", timeZone: "Pacific/Auckland" });
const dateFormat = new Intl.DateTimeFormat("en-NZ", { dateStyle: "medium", timeZone: "Pacific/Auckland" });
/** Times as a patron in Auckland reads them. */
export const formatTime = (iso: string): string => timeFormat.format(new Date(iso));
export const formatDate = (iso: string): string => dateFormat.format(new Date(iso));

/** What a person is told when the library refuses. `who` names the other account, when there is one. */
export const sayRefusal = (failure: { readonly code: string; readonly message?: string; readonly retryAt?: string }, who?: string): string => {
  const them = who ?? "that account";
  switch (failure.code) {
    case "barcode-or-phrase-not-recognised":
      return "That barcode and share phrase don't match. Check both and try again — a share phrase stops working after 7 days, or when a newer one is made.";
    case "too-many-attempts":
      return `There have been too many attempts to connect from your account, so connecting is paused to keep accounts safe. You can try again ${failure.retryAt === undefined ? "later" : `after ${formatTime(failure.retryAt)}`}.`;
    case "too-many-phrases":
      return `You've made several share phrases recently, so making another is paused for a while. You can try again ${failure.retryAt === undefined ? "later" : `after ${formatTime(failure.retryAt)}`}.`;
    case "cannot-connect-to-own-account":
      return "That barcode is your own. Enter the barcode of the account that gave you the share phrase.";
    case "minor-cannot-manage":
      return "A child's account can't manage other accounts, so it can't make a 1-way share phrase. Choose 2-way instead: the other account will be able to manage yours, and yours won't manage theirs.";
    case "not-authorised":
      return `Your account isn't connected to ${them} any more, so you can't see or change it. The connection may have been removed.`;
    case "self-service-only":
      return `New holds and eCheckouts can only be made from the borrower's own account. Sign in as ${them} to do that.`;
    case "account-closed":
      return `${them === "that account" ? "That account" : them} is closed, so nothing more can be done with it here. Please talk to library staff.`;
    case "account-not-found":
      return "We couldn't find that account.";
    case "link-not-found":
      return "That connection doesn't exist any more.";
    case "loan-not-found":
    case "loan-returned":
      return "That item has already been returned.";
    case "due-date-not-later":
      return "This item can't be renewed again yet: its due date would not move.";
    case "hold-not-found":
    case "hold-closed":
      return "That hold has already been cancelled or picked up.";
    case "hold-already-suspended":
      return "That hold is already paused.";
    case "hold-not-suspended":
      return "That hold isn't paused.";
    case "suspension-not-in-future":
      return "Choose a date after today to pause the hold until.";
    case "invalid-input":
      return "Something in the form wasn't filled in as expected. Please check it and try again.";
    case "account-open":
      return "This account is still open, so its personal data can't be erased yet. Close the account first, then erase it.";
    case "conflict-retries-exhausted":
      return "The library is very busy right now. Please try again in a moment.";
    default:
      return "Sorry, that couldn't be done. Please try again, or ask library staff for help.";
  }
};

/** The patron's reading-history choice as it stands, and what it means. */
export const sayReadingHistory = (keeps: boolean, retentionDays: number): string =>
  keeps
    ? `You have chosen to keep your reading history: the library keeps what you borrowed for as long as you have your account.`
    : `Your reading history is not kept: ${retentionDays} days after you return an item or a hold ends, the library forgets what it was.`;

/** What the privacy page says after a choice is saved. */
export const sayReadingHistorySaved = (keep: boolean): string =>
  keep ? "Saved: the library will keep your reading history." : "Saved: the library will not keep your reading history past its retention period.";

/** What staff are told before and after erasing an account's personal data. */
export const ERASE_WORDS = {
  explain:
    "Erasing forgets this account's barcode and the titles and items of everything it borrowed or asked for, for good: they read [erased] from then on, in the records and in every backup. Its links and the record of who did what are kept. This can't be undone.",
  openAccount: "This account is open. Its personal data can be erased only once it is closed.",
  erased: "This account's personal data has been erased.",
  done: "The account's personal data was erased.",
} as const;
