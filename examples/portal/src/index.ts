/**
 * The patron portal as a module, for programs that start it themselves (the
 * benchmark does): `createPortal` gives the Hono app over a store, `seedDemo`
 * the demo library. `pnpm portal` (main.ts) is the usual way in.
 */
export { type Portal, type PortalOptions, createPortal } from "./portal.js";
export { DEMO_PATRONS, DEMO_STAFF, seedDemo } from "./seed.js";
