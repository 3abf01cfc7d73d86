/**
 * Every way `decide` can refuse, in one place. Codes are stable (hosts switch on
 * them and translate them); messages are for people and may improve.
 */

export const domainErrorCodes = {
  "not-authorised": "The actor may not do this to that account (R1, R5).",
  "self-service-only":
    "Only the account itself may do this: place a hold, make an eCheckout, issue or revoke its phrases, connect itself (R5).",
  "account-not-found": "No account is registered with that id.",
  "account-already-registered": "An account with that id is already registered.",
  "barcode-taken": "Another account already has that barcode.",
  "account-closed": "The account is closed (R12).",
  "account-open": "Close the account before erasing its personal data.",
  "minor-cannot-manage": "A minor's account cannot be the managing side of a link (R4), unless the policy lets minors manage from an age it has reached.",
  "date-of-birth-in-future": "A date of birth cannot be after the day it is recorded.",
  "phrase-not-found": "No share phrase with that id was issued.",
  "phrase-already-issued": "A share phrase with that id was already issued.",
  "barcode-or-phrase-not-recognised":
    "The barcode and phrase do not open any account for connecting (R9: the reason is recorded for audit, never told).",
  "cannot-connect-to-own-account": "The barcode typed is the connector's own (R8).",
  "too-many-attempts": "This account made too many failed connection attempts and must wait (R10).",
  "too-many-phrases": "This account issued too many share phrases recently and must wait (R10).",
  "link-not-found": "No link with that id exists.",
  "link-id-taken": "A link with that id already exists.",
  "loan-not-found": "That account has no such loan.",
  "loan-already-exists": "That account already has a loan with that id.",
  "loan-returned": "The loan was already returned.",
  "due-date-not-later": "A renewal must move the due date later.",
  "due-date-not-after-checkout": "A loan must fall due after it was checked out.",
  "hold-not-found": "That account has no such hold.",
  "hold-already-exists": "That account already has a hold with that id.",
  "hold-closed": "The hold was already cancelled or fulfilled.",
  "hold-already-suspended": "The hold is already suspended.",
  "hold-not-suspended": "The hold is not suspended.",
  "suspension-not-in-future": "A hold can only be suspended until a time after now.",
} as const;

export type DomainErrorCode = keyof typeof domainErrorCodes;

export interface DomainError {
  readonly code: DomainErrorCode;
  readonly message: string;
  /** When a refusal that only time lifts ends (a lockout, a rate limit): ISO time. */
  readonly retryAt?: string;
}

export const domainError = (code: DomainErrorCode, message: string, retryAt?: string): DomainError =>
  retryAt === undefined ? { code, message } : { code, message, retryAt };
