import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Under CI a JSON report is written too, so .ci/run can print a plain "N passed, N failed" line.
    reporters: process.env.CI === "true" ? ["default", "json"] : ["default"],
    outputFile: process.env.CI === "true" ? { json: ".ci/test-report.json" } : undefined,
  },
});
