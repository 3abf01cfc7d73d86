/**
 * What a host hands `createLinkedAccounts`'s methods, as io-ts codecs: decoded
 * at the boundary so a bad field is refused with its name before anything else
 * happens. Ids the host leaves out are made by the `Ids` port.
 */
import * as t from "io-ts";
import { Actor, BarcodeAsTyped, Direction, FreeText, Id, IsoTime, Text, secret } from "@linked-accounts/domain";

/** The typed share phrase: a decode failure names the field but never shows it. */
export const TypedPhrase = secret(FreeText("SharePhrase", 1, 200));

const input = <R extends t.Props, O extends t.Props>(name: string, required: R, optional: O) =>
  t.exact(
    t.intersection([
      t.type({ actor: Actor, ...required }),
      t.partial({ commandId: Id, correlationId: t.union([Text("CorrelationId", 1, 200), t.null]), ...optional }),
    ]),
    name,
  );

export const RegisterAccountInput = input("registerAccount", { accountId: Id, barcode: BarcodeAsTyped, minor: t.boolean }, {});
export const CloseAccountInput = input("closeAccount", { accountId: Id }, {});
export const IssueSharePhraseInput = input("issueSharePhrase", { direction: Direction }, {});
export const RevokeSharePhraseInput = input("revokeSharePhrase", { phraseId: Id }, {});
export const ConnectAccountInput = input(
  "connectAccount",
  // What the connector typed; an unknown or malformed barcode is a failed attempt, not bad input (R9).
  { barcode: secret(FreeText("Barcode", 1, 64)), phrase: TypedPhrase }, // never echoed: it may hold a phrase (R6)
  {},
);
export const RevokeLinkInput = input("revokeLink", { linkId: Id }, { reason: FreeText("Reason", 0, 500) });
export const RecordCheckoutInput = input(
  "recordCheckout",
  {
    accountId: Id,
    itemId: Id,
    title: Text("Title", 1, 500),
    format: t.keyof({ physical: null, digital: null }),
    dueAt: IsoTime,
  },
  { loanId: Id },
);
export const RenewLoanInput = input("renewLoan", { accountId: Id, loanId: Id, dueAt: IsoTime }, {});
export const RecordReturnInput = input("recordReturn", { accountId: Id, loanId: Id }, {});
export const PlaceHoldInput = input(
  "placeHold",
  { accountId: Id, itemId: Id, title: Text("Title", 1, 500), pickupBranch: Text("Branch", 1, 100) },
  { holdId: Id },
);
export const HoldInput = (name: string) => input(name, { accountId: Id, holdId: Id }, {});
export const CancelHoldInput = HoldInput("cancelHold");
export const ResumeHoldInput = HoldInput("resumeHold");
export const RecordHoldFulfilledInput = HoldInput("recordHoldFulfilled");
export const SuspendHoldInput = input("suspendHold", { accountId: Id, holdId: Id, until: IsoTime }, {});
export const ChangeHoldPickupBranchInput = input(
  "changeHoldPickupBranch",
  { accountId: Id, holdId: Id, pickupBranch: Text("Branch", 1, 100) },
  {},
);

export type RegisterAccountInput = t.TypeOf<typeof RegisterAccountInput>;
export type CloseAccountInput = t.TypeOf<typeof CloseAccountInput>;
export type IssueSharePhraseInput = t.TypeOf<typeof IssueSharePhraseInput>;
export type RevokeSharePhraseInput = t.TypeOf<typeof RevokeSharePhraseInput>;
export type ConnectAccountInput = t.TypeOf<typeof ConnectAccountInput>;
export type RevokeLinkInput = t.TypeOf<typeof RevokeLinkInput>;
export type RecordCheckoutInput = t.TypeOf<typeof RecordCheckoutInput>;
export type RenewLoanInput = t.TypeOf<typeof RenewLoanInput>;
export type RecordReturnInput = t.TypeOf<typeof RecordReturnInput>;
export type PlaceHoldInput = t.TypeOf<typeof PlaceHoldInput>;
export type CancelHoldInput = t.TypeOf<typeof CancelHoldInput>;
export type ResumeHoldInput = t.TypeOf<typeof ResumeHoldInput>;
export type RecordHoldFulfilledInput = t.TypeOf<typeof RecordHoldFulfilledInput>;
export type SuspendHoldInput = t.TypeOf<typeof SuspendHoldInput>;
export type ChangeHoldPickupBranchInput = t.TypeOf<typeof ChangeHoldPickupBranchInput>;
