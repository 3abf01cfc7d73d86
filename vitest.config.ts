import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["./vitest.global-setup.ts"],
    include: ["packages/*/src/**/*.test.ts", "examples/src/**/*.test.ts", "examples/portal/src/**/*.test.ts", "tools/src/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
