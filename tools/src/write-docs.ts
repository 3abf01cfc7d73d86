/** `pnpm run docs`: writes the generated documents (today docs/events.md). */
import { writeFileSync } from "node:fs";
import { renderEventsDoc } from "./events-doc.js";

const target = new URL("../../docs/events.md", import.meta.url);
writeFileSync(target, renderEventsDoc());
console.log("wrote docs/events.md");
