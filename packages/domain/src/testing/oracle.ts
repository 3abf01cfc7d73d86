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
}
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
          this.accounts.set(event.data.accountId, { barcode: event.data.barcode, minor: event.data.minor, closed: false });
        return;
      case "AccountClosed": {
        const a = this.accounts.get(event.data.accountId);
        if (a !== undefined) a.closed = true;
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

  /** R1, R2, R4, R12: every `manager→account` in force, from active links only, never composed (R3). */
  grants(): Set<string> {
    const out = new Set<string>();
    for (const link of this.links) {
      if (link.revoked) continue;
      for (const [m, a] of NaiveModel.edges(link)) {
        const manager = this.accounts.get(m);
        const account = this.accounts.get(a);
        if (m === a || manager === undefined || account === undefined) continue;
        if (manager.closed || account.closed || manager.minor) continue;
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
