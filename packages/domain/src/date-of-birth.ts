/**
 * A date of birth, as a calendar date (`2010-05-17`), and the age it gives at
 * an instant. The library keeps no time zone: a birthday begins at midnight
 * UTC. Someone born on 29 February reaches an age on 1 March in a common year.
 */
import * as t from "io-ts";

const DATE_SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The instant (ms) at which someone born on `date` reaches `years`; NaN for a date that is not one. */
export const reachesAgeAt = (date: string, years: number): number => {
  const m = DATE_SHAPE.exec(date);
  if (m === null) return NaN;
  const d = new Date(0);
  // setUTCFullYear, not Date.UTC, which reads a year below 100 as 19xx.
  d.setUTCFullYear(Number(m[1]) + years, Number(m[2]) - 1, Number(m[3]));
  return d.getTime();
};

const isCalendarDate = (u: unknown): u is string => {
  if (typeof u !== "string" || !DATE_SHAPE.test(u)) return false;
  const ms = reachesAgeAt(u, 0);
  // A real day (no 31 April), from 1900 on.
  return u.slice(0, 4) >= "1900" && new Date(ms).toISOString().slice(0, 10) === u;
};

export const DateOfBirth: t.Type<string, string, unknown> = new t.Type<string, string, unknown>(
  "DateOfBirth (a calendar date from 1900, like 2010-05-17)",
  isCalendarDate,
  (u, c) => (isCalendarDate(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);
export type DateOfBirth = t.TypeOf<typeof DateOfBirth>;
