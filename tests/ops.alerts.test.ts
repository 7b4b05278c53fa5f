import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { requireService } from "./helpers/services.ts";
import { alertRules, readRuleFile, readRuleTests, RULE_TEST_FILES, RULES_FILE } from "./helpers/alert-rules.ts";

// The alert rules (issue 24) through Debian's promtool: the file is valid, its unit tests pass, and
// every alert has a case that fires and a case that must not (checked by breaking each rule both
// ways and watching its own test fail). Under CI=true a missing promtool fails the suite.
const hasPromtool = requireService("promtool");
const README = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");

function promtool(...args: string[]) {
  const run = spawnSync("promtool", args, { encoding: "utf8", timeout: 30_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe.runIf(hasPromtool)("alert rules (ops/alerts.yml)", () => {
  const rules = alertRules();
  const scratch = mkdtempSync(join(tmpdir(), "tap-alerts-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("pass promtool check rules", () => {
    const run = promtool("check", "rules", RULES_FILE);
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it("are loaded by the sample Prometheus configuration (ops/prometheus.yml)", () => {
    const run = promtool("check", "config", join(import.meta.dirname, "..", "ops", "prometheus.yml"));
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it("pass their unit tests (promtool test rules)", () => {
    const run = promtool("test", "rules", ...RULE_TEST_FILES);
    expect(run.status, run.output).toBe(0);
    expect(run.output.match(/SUCCESS/g)).toHaveLength(RULE_TEST_FILES.length);
  });

  it("cover what issue 24 asks for, each with a severity, a summary and a runbook entry in the README", () => {
    for (const name of ["PriceCircuitOpen", "SettlementsRetrying", "BetsStuckOpen", "BetLatencyHigh", "BatchQueueNearBound", "DiskNearlyFull", "WebSocketClientsDropped", "PriceSourceUnhealthy", "NotReady"]) {
      expect(rules.map((r) => r.alert)).toContain(name);
    }
    for (const rule of rules) {
      expect(rule.labels?.severity, rule.alert).toMatch(/^(page|warning)$/);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.runbook, rule.alert).toBe("README.md#alerts-and-runbooks");
    }
    const withoutRunbook = rules.filter((rule) => !new RegExp(`^\\| \`${rule.alert}\` \\|`, "m").test(README)).map((r) => r.alert);
    expect(withoutRunbook, "alerts without a row in the README's runbook table").toEqual([]);
  });

  // Each alert has a test group of its own name. A rule that never fires must fail its firing case;
  // one that always fires must fail its quiet cases (before `for` elapsed, and the "good" instance).
  const groups = RULE_TEST_FILES.flatMap((path) => {
    const file = readRuleTests(path);
    return file.tests.map((group) => ({ file, group }));
  });
  it("have one test group per alert", () => {
    expect(groups.map((g) => g.group.name).sort()).toEqual(rules.map((r) => r.alert).sort());
  });

  it.each([
    ["never fires", "vector(0) > 1"],
    ["always fires", "vector(1)"],
  ])("each alert's tests fail when the rule %s", (_what, brokenExpr) => {
    const silent: string[] = [];
    for (const target of rules) {
      const rulesFile = readRuleFile();
      for (const rule of alertRules(rulesFile)) if (rule.alert === target.alert) rule.expr = brokenExpr;
      writeFileSync(join(scratch, "alerts.yml"), stringify(rulesFile));
      const own = groups.find((g) => g.group.name === target.alert);
      if (!own) throw new Error(`no test group named ${target.alert}`);
      writeFileSync(join(scratch, "one.test.yml"), stringify({ ...own.file, rule_files: ["alerts.yml"], tests: [own.group] }));
      const run = promtool("test", "rules", join(scratch, "one.test.yml"));
      if (run.status === 0 || !run.output.includes(`alertname: ${target.alert},`)) silent.push(target.alert);
    }
    expect(silent, "alerts whose tests did not notice the broken rule").toEqual([]);
  });
});
