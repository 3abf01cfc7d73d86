import { v7 as uuidv7 } from "uuid";

/**
 * The id port: event ids must be UUID v7 (DOMAIN.md metadata); the same source
 * names new phrases, links, loans and holds unless the host names them itself.
 */
export interface Ids {
  next(): string;
}

export const uuidV7Ids: Ids = { next: () => uuidv7() };
