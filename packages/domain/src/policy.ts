/** The numbers a host may tune (R4, R6, R10, retention). The defaults are DOMAIN.md's. */

export interface LockoutRule {
  /** This many counted failures within `windowMs`… */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** …lock for this long after the failure that reached the count. */
  readonly lockMs: number;
}

export interface Policy {
  /** R6: how long an issued phrase stays usable. */
  readonly phraseLifetimeMs: number;
  /** R10: failures against one issuer's phrases. */
  readonly issuerLockout: LockoutRule;
  /** R10: failures by one connector. */
  readonly connectorLockout: LockoutRule;
  /** R10: how often one account may issue phrases: `maxFailures` counts phrases issued here. */
  readonly issueLimit: LockoutRule;
  /**
   * R4: from what age a minor may manage another account, judged by the date of
   * birth recorded for it (`DateOfBirthRecorded`); a minor with none recorded
   * never manages. null (the default, DOMAIN.md's R4): minors never manage.
   */
  readonly minorsMayManageFromAge: number | null;
  /**
   * Issue 12: how many days after a loan is returned, or a hold fulfilled or
   * cancelled, a retention run (`applyRetention`) forgets what it was (its item,
   * title and pickup branch), unless the patron chose to keep their reading
   * history. A whole number of days from 1 to 36,500; default 90.
   */
  readonly retentionDays: number;
}

/** The longest retention a policy or a run may name: a hundred years, in days. */
export const MAX_RETENTION_DAYS = 36_500;

const MINUTE = 60_000;

export const defaultPolicy: Policy = {
  phraseLifetimeMs: 7 * 24 * 60 * MINUTE,
  issuerLockout: { maxFailures: 5, windowMs: 15 * MINUTE, lockMs: 15 * MINUTE },
  connectorLockout: { maxFailures: 10, windowMs: 60 * MINUTE, lockMs: 60 * MINUTE },
  // Enough for a family setting up its links at one sitting; a button pressed
  // once a second stops after the fifth phrase for a quarter of an hour.
  issueLimit: { maxFailures: 5, windowMs: 15 * MINUTE, lockMs: 15 * MINUTE },
  minorsMayManageFromAge: null,
  retentionDays: 90,
};

/**
 * How many failure times the state keeps per account and role. A lockout rule
 * may count at most this many failures, so the state stays small however long
 * someone keeps guessing.
 */
export const RETAINED_FAILURES = 32;

/** A policy from the defaults and the host's overrides; refuses numbers that cannot work. */
export const makePolicy = (overrides: {
  readonly phraseLifetimeMs?: number;
  readonly issuerLockout?: Partial<LockoutRule>;
  readonly connectorLockout?: Partial<LockoutRule>;
  readonly issueLimit?: Partial<LockoutRule>;
  readonly minorsMayManageFromAge?: number | null;
  readonly retentionDays?: number;
} = {}): Policy => {
  const policy: Policy = {
    phraseLifetimeMs: overrides.phraseLifetimeMs ?? defaultPolicy.phraseLifetimeMs,
    issuerLockout: { ...defaultPolicy.issuerLockout, ...overrides.issuerLockout },
    connectorLockout: { ...defaultPolicy.connectorLockout, ...overrides.connectorLockout },
    issueLimit: { ...defaultPolicy.issueLimit, ...overrides.issueLimit },
    minorsMayManageFromAge: overrides.minorsMayManageFromAge === undefined ? defaultPolicy.minorsMayManageFromAge : overrides.minorsMayManageFromAge,
    retentionDays: overrides.retentionDays ?? defaultPolicy.retentionDays,
  };
  const positive = (name: string, n: number) => {
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`policy.${name}: expected a positive integer, got ${n}`);
  };
  positive("phraseLifetimeMs", policy.phraseLifetimeMs);
  const age = policy.minorsMayManageFromAge;
  if (age !== null && !(Number.isSafeInteger(age) && age > 0 && age < 150))
    throw new RangeError(`policy.minorsMayManageFromAge: expected null or a whole number of years from 1 to 149, got ${age}`);
  const days = policy.retentionDays;
  if (!(Number.isSafeInteger(days) && days >= 1 && days <= MAX_RETENTION_DAYS))
    throw new RangeError(`policy.retentionDays: expected a whole number of days from 1 to ${MAX_RETENTION_DAYS}, got ${days}`);
  for (const role of ["issuerLockout", "connectorLockout", "issueLimit"] as const) {
    const rule = policy[role];
    positive(`${role}.windowMs`, rule.windowMs);
    positive(`${role}.lockMs`, rule.lockMs);
    positive(`${role}.maxFailures`, rule.maxFailures);
    if (rule.maxFailures > RETAINED_FAILURES)
      throw new RangeError(`policy.${role}.maxFailures: expected at most ${RETAINED_FAILURES}, got ${rule.maxFailures}`);
  }
  return policy;
};

/**
 * R10: the time until which these failures lock, or 0. `times` are counted
 * failures in milliseconds, oldest first. Any `maxFailures` of them within
 * `windowMs` lock until `lockMs` after the last of them.
 */
export const lockedUntil = (times: ReadonlyArray<number>, rule: LockoutRule): number => {
  let until = 0;
  for (let i = rule.maxFailures - 1; i < times.length; i++) {
    const last = times[i]!;
    if (last - times[i - rule.maxFailures + 1]! <= rule.windowMs) until = Math.max(until, last + rule.lockMs);
  }
  return until;
};
