/**
 * Every command, declared once. The table is what the command handler, the
 * host's typed methods and the library decider are derived from: adding a
 * command is adding its declaration here, with its given/when/then specification.
 */
import type * as t from "io-ts";
import type { AnyDeclaration } from "../declaration.js";
import { applyRetention } from "./apply-retention.js";
import { chooseReadingHistory } from "./choose-reading-history.js";
import { closeAccount } from "./close-account.js";
import { connectAccount } from "./connect-account.js";
import { cancelHold, changeHoldPickupBranch, recordHoldFulfilled, resumeHold, suspendHold } from "./hold-changes.js";
import { issueSharePhrase } from "./issue-share-phrase.js";
import { placeHold } from "./place-hold.js";
import { eraseAccount } from "./erase-account.js";
import { eCheckout, recordCheckout } from "./record-checkout.js";
import { recordDateOfBirth } from "./record-date-of-birth.js";
import { recordReturn } from "./record-return.js";
import { registerAccount } from "./register-account.js";
import { renewLoan } from "./renew-loan.js";
import { revokeLink } from "./revoke-link.js";
import { revokeSharePhrase } from "./revoke-share-phrase.js";

/** By host method name. */
export const declarations = {
  registerAccount,
  closeAccount,
  recordDateOfBirth,
  issueSharePhrase,
  revokeSharePhrase,
  connectAccount,
  revokeLink,
  recordCheckout,
  eCheckout,
  renewLoan,
  recordReturn,
  placeHold,
  cancelHold,
  suspendHold,
  resumeHold,
  changeHoldPickupBranch,
  recordHoldFulfilled,
  eraseAccount,
  chooseReadingHistory,
  applyRetention,
} as const;
export type Declarations = typeof declarations;

/** Every command codec, by command type. */
export const commandCodecs = {
  RegisterAccount: registerAccount.codec,
  CloseAccount: closeAccount.codec,
  RecordDateOfBirth: recordDateOfBirth.codec,
  IssueSharePhrase: issueSharePhrase.codec,
  RevokeSharePhrase: revokeSharePhrase.codec,
  ConnectAccount: connectAccount.codec,
  RevokeLink: revokeLink.codec,
  RecordCheckout: recordCheckout.codec,
  RenewLoan: renewLoan.codec,
  RecordReturn: recordReturn.codec,
  PlaceHold: placeHold.codec,
  CancelHold: cancelHold.codec,
  SuspendHold: suspendHold.codec,
  ResumeHold: resumeHold.codec,
  ChangeHoldPickupBranch: changeHoldPickupBranch.codec,
  RecordHoldFulfilled: recordHoldFulfilled.codec,
  EraseAccount: eraseAccount.codec,
  ChooseReadingHistory: chooseReadingHistory.codec,
  ApplyRetention: applyRetention.codec,
} as const;
export type CommandType = keyof typeof commandCodecs;
export type Command = { [K in CommandType]: t.TypeOf<(typeof commandCodecs)[K]> }[CommandType];
export type CommandOf<K extends CommandType> = Extract<Command, { type: K }>;

/** The declaration that decides each command type (an eCheckout decides as a checkout). */
export const declarationOf = (type: CommandType): AnyDeclaration => byType[type];
const byType: Record<CommandType, AnyDeclaration> = {
  RegisterAccount: registerAccount,
  CloseAccount: closeAccount,
  RecordDateOfBirth: recordDateOfBirth,
  IssueSharePhrase: issueSharePhrase,
  RevokeSharePhrase: revokeSharePhrase,
  ConnectAccount: connectAccount,
  RevokeLink: revokeLink,
  RecordCheckout: recordCheckout,
  RenewLoan: renewLoan,
  RecordReturn: recordReturn,
  PlaceHold: placeHold,
  CancelHold: cancelHold,
  SuspendHold: suspendHold,
  ResumeHold: resumeHold,
  ChangeHoldPickupBranch: changeHoldPickupBranch,
  RecordHoldFulfilled: recordHoldFulfilled,
  EraseAccount: eraseAccount,
  ChooseReadingHistory: chooseReadingHistory,
  ApplyRetention: applyRetention,
};

export { PhraseProof, refusalOf } from "./connect-account.js";
