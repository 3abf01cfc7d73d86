/**
 * A naive model of who may manage whom, folded from events alone with none of
 * the domain's code: the oracle property tests compare the domain against.
 * Kept deliberately simple (lists and loops), so a reader can check it by eye.
 */
import type { DomainEvent } from "../events.js";
import type { LockoutRule } from "../policy.js";

export interface NaiveAccount {
  readonly barcode: string;
  readonly minor: boolean;
  closed: boolean;
  /** `2010-05-17`, or null while none is recorded. */
  dateOfBirth: string | null;
}

/** A policy's R4 age (null: minors never manage) and the time the question is asked at. */
export interface NaiveAgeRule {
  readonly minorsMayManageFromAge: number | null;
  readonly atMs: number;
}

/** Whole years from a `YYYY-MM-DD` birth date to the UTC day of `atMs`, counted the way people count them. */
export const naiveAge = (dateOfBirth: string, atMs: number): number => {
  const [y, m, d] = dateOfBirth.split("-").map(Number) as [number, number, number];
  const now = new Date(atMs);
  const [Y, M, D] = [now.getUTCFullYear(), now.getUTCMonth() + 1, now.getUTCDate()];
  // Born on 29 February: in a common year the birthday is 1 March.
  const [bm, bd] = m === 2 && d === 29 && !(Y % 4 === 0 && (Y % 100 !== 0 || Y % 400 === 0)) ? [3, 1] : [m, d];
  return Y - y - (M < bm || (M === bm && D < bd) ? 1 : 0);
};
export interface NaiveLink {
  readonly linkId: string;
  readonly issuer: string;
  readonly connector: string;
  readonly direction: "one-way" | "two-way";
  revoked: boolean;
}

/** Mutable on purpose: a test feeds it each step's events in turn. */
export class NaiveModel {
  readonly accounts = new Map<string, NaiveAccount>();
  readonly links: NaiveLink[] = [];
  /** Counted failed attempts (R10), as [time ms, connector, issuer or null]. */
  readonly failures: Array<[number, string, string | null]> = [];

  apply(event: DomainEvent): void {
    switch (event.type) {
      case "AccountRegistered":
        if (!this.accounts.has(event.data.accountId))
          this.accounts.set(event.data.accountId, { barcode: event.data.barcode, minor: event.data.minor, closed: false, dateOfBirth: null });
        return;
      case "AccountClosed": {
        const a = this.accounts.get(event.data.accountId);
        if (a !== undefined) a.closed = true;
        return;
      }
      case "DateOfBirthRecorded": {
        const a = this.accounts.get(event.data.accountId);
        if (a !== undefined) a.dateOfBirth = event.data.dateOfBirth;
        return;
      }
      case "AccountConnected":
        this.links.push({
          linkId: event.data.linkId,
          issuer: event.data.issuerAccountId,
          connector: event.data.connectedAccountId,
          direction: event.data.direction,
          revoked: false,
        });
        return;
      case "LinkRevoked":
        for (const l of this.links) if (l.linkId === event.data.linkId) l.revoked = true;
        return;
      case "ConnectionAttemptFailed": {
        // R10: a lockout refusal never counts towards its own lockout; guessing at a
        // locked issuer still counts against the connector; one's own barcode, never.
        const r = event.data.reason;
        if (r === "self-link" || r === "connector-locked") return;
        const at = Date.parse(event.data.attemptedAt);
        this.failures.push([at, event.data.connectorAccountId, r === "issuer-locked" ? null : event.data.issuerAccountId]);
        return;
      }
      default:
        return;
    }
  }

  /** The directed edges a link's direction gives (R2), in force or not. */
  static edges(link: NaiveLink): Array<[string, string]> {
    return link.direction === "two-way"
      ? [
          [link.issuer, link.connector],
          [link.connector, link.issuer],
        ]
      : [[link.issuer, link.connector]];
  }

  /** R4: a minor manages only when the rule names an age and its recorded birth date has reached it. */
  static mayManage(account: NaiveAccount, rule: NaiveAgeRule): boolean {
    if (!account.minor) return true;
    if (rule.minorsMayManageFromAge === null || account.dateOfBirth === null) return false;
    return naiveAge(account.dateOfBirth, rule.atMs) >= rule.minorsMayManageFromAge;
  }

  /**
   * R1, R2, R4, R12: every `manager→account` in force, from active links only, never composed (R3).
   * By default minors never manage (R4); `rule` is a policy that lets them from an age.
   */
  grants(rule: NaiveAgeRule = { minorsMayManageFromAge: null, atMs: 0 }): Set<string> {
    const out = new Set<string>();
    for (const link of this.links) {
      if (link.revoked) continue;
      for (const [m, a] of NaiveModel.edges(link)) {
        const manager = this.accounts.get(m);
        const account = this.accounts.get(a);
        if (m === a || manager === undefined || account === undefined) continue;
        if (manager.closed || account.closed || !NaiveModel.mayManage(manager, rule)) continue;
        out.add(`${m}→${a}`);
      }
    }
    return out;
  }

  /** R10: until when these failures lock (0 if not): any `maxFailures` within `windowMs`, for `lockMs` after the last. */
  static lockedUntil(times: ReadonlyArray<number>, rule: LockoutRule): number {
    let until = 0;
    for (const t of times) {
      const inWindow = times.filter((u) => u <= t && u >= t - rule.windowMs).length;
      if (inWindow >= rule.maxFailures) until = Math.max(until, t + rule.lockMs);
    }
    return until;
  }

  issuerLockedAt(issuer: string, nowMs: number, rule: LockoutRule): boolean {
    const times = this.failures.filter(([, , i]) => i === issuer).map(([t]) => t);
    return nowMs < NaiveModel.lockedUntil(times, rule);
  }

  connectorLockedAt(connector: string, nowMs: number, rule: LockoutRule): boolean {
    const times = this.failures.filter(([, c]) => c === connector).map(([t]) => t);
    return nowMs < NaiveModel.lockedUntil(times, rule);
  }

  accountByBarcode(barcode: string): string | undefined {
    for (const [id, a] of this.accounts) if (a.barcode === barcode) return id;
    return undefined;
  }
}
