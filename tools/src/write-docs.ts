/** `pnpm run docs`: writes the generated documents (docs/events.md and each package's CHANGELOG.md). */
import { writeFileSync } from "node:fs";
import { PUBLISHED, releaseEntries, renderChangelog } from "./changelogs.js";
import { renderEventsDoc } from "./events-doc.js";

const repo = new URL("../../", import.meta.url);
writeFileSync(new URL("docs/events.md", repo), renderEventsDoc());
console.log("wrote docs/events.md");
for (const pkg of PUBLISHED) {
  const file = `packages/${pkg}/CHANGELOG.md`;
  writeFileSync(new URL(file, repo), renderChangelog(`@linked-accounts/${pkg}`, releaseEntries(new URL(".changeset/changelogs/", repo), pkg)));
  console.log(`wrote ${file}`);
}
