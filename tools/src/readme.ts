/**
 * The README's host example: the fenced ```ts block that follows the marker
 * comment `<!-- host-example -->`. The consumer test compiles and runs exactly
 * this text, so the README shows code that works against the packages.
 */
export const HOST_EXAMPLE_MARKER = "<!-- host-example -->";

export const hostExample = (readme: string): string => {
  const at = readme.indexOf(HOST_EXAMPLE_MARKER);
  if (at < 0) throw new Error(`README.md has no ${HOST_EXAMPLE_MARKER} marker before its host example`);
  if (readme.indexOf(HOST_EXAMPLE_MARKER, at + 1) >= 0) throw new Error(`README.md has more than one ${HOST_EXAMPLE_MARKER} marker`);
  const block = /^[ \t]*\r?\n```ts\r?\n([\s\S]*?)^```[ \t]*$/m.exec(readme.slice(at + HOST_EXAMPLE_MARKER.length));
  if (block?.[1] === undefined) throw new Error(`README.md: the line after ${HOST_EXAMPLE_MARKER} must open a \`\`\`ts block`);
  return block[1];
};
