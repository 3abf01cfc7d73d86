/**
 * Commands: what a host asks the domain to decide. Each names its actor (the
 * logged-in account, staff member or system) and carries `now`, the ids it needs
 * and, for share phrases, only derived values: the domain never sees a clock, a
 * random source, a hash function or a plaintext phrase (R14, R6).
 */
import * as t from "io-ts";
import { Actor, BarcodeAsTyped, Base64Url, Direction, FreeText, Id, IsoTime, Text, secret } from "./codec.js";
import { Branch, LoanFormat, Reason, Title, Verifier } from "./events.js";

const command = <T extends string, P extends t.Props>(type: T, props: P) =>
  t.exact(
    t.intersection([
      t.type({
        type: t.literal(type),
        /** Sent twice, a command appends once (the handler keys on it). */
        commandId: Id,
        actor: Actor,
        now: IsoTime,
        ...props,
      }),
      t.partial({ correlationId: t.union([Text("CorrelationId", 1, 200), t.null]) }),
    ]),
    type,
  );

export const RegisterAccount = command("RegisterAccount", {
  accountId: Id,
  barcode: BarcodeAsTyped,
  minor: t.boolean,
});
export const CloseAccount = command("CloseAccount", { accountId: Id });

/** R6: `verifier` was derived from a fresh phrase by the adapters' phrase port. */
export const IssueSharePhrase = command("IssueSharePhrase", {
  phraseId: Id,
  issuerAccountId: Id,
  direction: Direction,
  verifier: Verifier,
});
export const RevokeSharePhrase = command("RevokeSharePhrase", { phraseId: Id });

/**
 * The hash of the typed phrase, derived with one stored phrase's salt and
 * parameters. The domain compares it with that phrase's verifier in constant time.
 */
export const PhraseProof = t.exact(t.type({ phraseId: Id, hash: Base64Url }), "PhraseProof");
export type PhraseProof = t.TypeOf<typeof PhraseProof>;

/** R8: `proofs` holds one proof per phrase `phrasesToCheck` named for this barcode. */
export const ConnectAccount = command("ConnectAccount", {
  connectorAccountId: Id,
  barcode: secret(FreeText("Barcode as typed", 0, 64)), // never echoed: it may hold a phrase typed in the wrong field (R6)
  linkId: Id,
  proofs: t.array(PhraseProof),
});
export const RevokeLink = command("RevokeLink", { linkId: Id, reason: Reason });

export const RecordCheckout = command("RecordCheckout", {
  loanId: Id,
  accountId: Id,
  itemId: Id,
  title: Title,
  format: LoanFormat,
  dueAt: IsoTime,
});
export const RenewLoan = command("RenewLoan", { loanId: Id, accountId: Id, dueAt: IsoTime });
export const RecordReturn = command("RecordReturn", { loanId: Id, accountId: Id });
export const PlaceHold = command("PlaceHold", {
  holdId: Id,
  accountId: Id,
  itemId: Id,
  title: Title,
  pickupBranch: Branch,
});
export const CancelHold = command("CancelHold", { holdId: Id, accountId: Id });
export const SuspendHold = command("SuspendHold", { holdId: Id, accountId: Id, until: IsoTime });
export const ResumeHold = command("ResumeHold", { holdId: Id, accountId: Id });
export const ChangeHoldPickupBranch = command("ChangeHoldPickupBranch", {
  holdId: Id,
  accountId: Id,
  pickupBranch: Branch,
});
export const RecordHoldFulfilled = command("RecordHoldFulfilled", { holdId: Id, accountId: Id });

export const linkingCommandCodecs = {
  RegisterAccount,
  CloseAccount,
  IssueSharePhrase,
  RevokeSharePhrase,
  ConnectAccount,
  RevokeLink,
} as const;

export const circulationCommandCodecs = {
  RecordCheckout,
  RenewLoan,
  RecordReturn,
  PlaceHold,
  CancelHold,
  SuspendHold,
  ResumeHold,
  ChangeHoldPickupBranch,
  RecordHoldFulfilled,
} as const;

export const commandCodecs = { ...linkingCommandCodecs, ...circulationCommandCodecs } as const;
export type CommandType = keyof typeof commandCodecs;

type TypeOfEach<R extends Record<string, t.Mixed>> = { [K in keyof R]: t.TypeOf<R[K]> }[keyof R];
export type LinkingCommand = TypeOfEach<typeof linkingCommandCodecs>;
export type CirculationCommand = TypeOfEach<typeof circulationCommandCodecs>;
export type Command = LinkingCommand | CirculationCommand;
export type CommandOf<K extends CommandType> = Extract<Command, { type: K }>;

export const isLinkingCommand = (c: Command): c is LinkingCommand =>
  Object.prototype.hasOwnProperty.call(linkingCommandCodecs, c.type);

