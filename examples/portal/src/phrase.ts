/** The plaintext phrase of `issueSharePhrase`'s answer (its type does not say so yet). */
export const shownOnce = (issued: object): string => {
  const phrase = (issued as { phrase?: unknown }).phrase;
  if (typeof phrase !== "string") throw new Error("issueSharePhrase answered without the phrase");
  return phrase;
};
