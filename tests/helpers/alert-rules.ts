import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { parse } from "yaml";

export const OPS_DIR = join(import.meta.dirname, "..", "..", "ops");
export const RULES_FILE = join(OPS_DIR, "alerts.yml");
/** promtool's unit tests of the rules: one file per evaluation interval (hour-scale rules at 1 min). */
export const RULE_TEST_FILES = [join(OPS_DIR, "alerts.test.yml"), join(OPS_DIR, "alerts.hourly.test.yml")];

export interface RuleTestFile {
  rule_files: string[];
  evaluation_interval: string;
  tests: { name: string; [key: string]: unknown }[];
}

export function readRuleTests(path: string): RuleTestFile {
  return parse(readFileSync(path, "utf8")) as RuleTestFile;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleFile {
  groups: { name: string; rules: AlertRule[] }[];
}

export function readRuleFile(path = RULES_FILE): RuleFile {
  return parse(readFileSync(path, "utf8")) as RuleFile;
}

export function alertRules(file: RuleFile = readRuleFile()): AlertRule[] {
  return file.groups.flatMap((g) => g.rules);
}

/** The metric names an expression selects (the names of its vector selectors), parsed with Prometheus's own PromQL grammar. */
export function metricNames(expr: string): string[] {
  const tree = parser.parse(expr);
  const names = new Set<string>();
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) throw new Error(`PromQL syntax error at ${cursor.from} in: ${expr}`);
    if (cursor.name === "Identifier" && cursor.node.parent?.name === "VectorSelector") names.add(expr.slice(cursor.from, cursor.to));
    if (cursor.name === "LabelName" && expr.slice(cursor.from, cursor.to) === "__name__") throw new Error(`select metrics by name, not __name__: ${expr}`);
  } while (cursor.next());
  return [...names];
}
