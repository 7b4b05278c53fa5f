import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hasBinary } from "./helpers/services.ts";

const root = join(import.meta.dirname, "..");
const units = ["tap-backend.service", "tap-archive.service", "tap-edge@.service", "tap-core.socket", "tap-core@.service"];

function unit(name: string) {
  return readFileSync(join(root, "systemd", name), "utf8");
}

describe("systemd units", () => {
  it("the service restarts on failure, stops by SIGTERM, reads an EnvironmentFile and is sandboxed", () => {
    const text = unit("tap-backend.service");
    for (const line of [
      "Restart=always",
      "RestartPreventExitStatus=78",
      "KillSignal=SIGTERM",
      "EnvironmentFile=/etc/tap-backend/env",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "PrivateTmp=yes",
      "StateDirectory=tap-backend",
      // backups go to a directory of their own, writable despite ProtectSystem=strict
      "Environment=BACKUP_DIR=/var/backups/tap-backend",
      "ReadWritePaths=-/var/backups/tap-backend",
    ]) {
      expect(text).toContain(line);
    }
    // Production runs the build (npm run build → dist/) with plain node: no TypeScript loader.
    expect(text).toMatch(/^ExecStart=\/usr\/bin\/node dist\/runtime\/main\.js$/m);
    expect(text).not.toMatch(/^ExecStart=.*(tsx|\.ts\b)/m);
  });

  it("the edge template runs one edge per port (ROLE and PORT on the command line, over the shared env file) and writes nothing", () => {
    const text = unit("tap-edge@.service");
    for (const line of ["Restart=always", "RestartPreventExitStatus=78", "KillSignal=SIGTERM", "EnvironmentFile=/etc/tap-backend/env", "ProtectSystem=strict", "NoNewPrivileges=yes"]) {
      expect(text).toContain(line);
    }
    // An EnvironmentFile= overrides Environment=: the role and port must win over the core's env file.
    expect(text).toMatch(/^ExecStart=\/usr\/bin\/env ROLE=edge PORT=%i \/usr\/bin\/node dist\/runtime\/main\.js$/m);
    expect(text).not.toMatch(/^(StateDirectory|ReadWritePaths)=/m);
  });

  it("the failover pair: both cores take the shared socket as fd 3 and the lease, and restart as the standby", () => {
    const socket = unit("tap-core.socket");
    expect(socket).toMatch(/^ListenStream=127\.0\.0\.1:3000$/m);
    const core = unit("tap-core@.service");
    for (const line of ["Sockets=tap-core.socket", "Requires=tap-core.socket", "Restart=always", "RestartPreventExitStatus=78", "KillSignal=SIGTERM", "EnvironmentFile=/etc/tap-backend/env", "ProtectSystem=strict"]) {
      expect(core).toContain(line);
    }
    expect(core).toMatch(/^ExecStart=\/usr\/bin\/env LEASE=on CORE_STATE_FILE=\/run\/tap-backend\/core-%i\.state \/usr\/bin\/node dist\/runtime\/main\.js$/m);
  });

  // systemd-analyze is part of systemd; CI installs it, a developer machine may not have it.
  it.runIf(hasBinary("systemd-analyze"))("passes systemd-analyze verify without warnings", () => {
    const dir = mkdtempSync(join(tmpdir(), "tap-systemd-"));
    try {
      writeFileSync(join(dir, "env"), "PORT=3000\n");
      const node = spawnSync("sh", ["-c", "command -v node"], { encoding: "utf8" }).stdout.trim();
      const files = units.map((name) => {
        const rendered = unit(name)
          .replaceAll("/usr/bin/node", node)
          .replaceAll("/opt/tap-backend", root)
          .replaceAll("/etc/tap-backend/env", join(dir, "env"));
        const file = join(dir, name);
        writeFileSync(file, rendered);
        return file;
      });
      const result = spawnSync("systemd-analyze", ["verify", ...files], { encoding: "utf8" });
      const complaints = `${result.stdout}${result.stderr}`
        .split("\n")
        .filter((l) => l.trim() && dir && (l.includes(dir) || /unknown|invalid|failed|ignoring/i.test(l)));
      expect(complaints, complaints.join("\n")).toEqual([]);
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
