// The compiled tree a board runs, laid for the benches that measure it (bench-compiled.ts,
// bench-memory.ts, bench-startup.ts): `gsu flash --root DIR --profile raspberry-pi` lays
// host/**/*.js (host/board/compile-js.ts), build/, examples/ and package.json under
// DIR/opt/gsu, and the repo's node_modules is linked there (a board runs npm ci --omit=dev).
import { spawnSync } from "node:child_process";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Lays the board's tree under dir; returns its opt/gsu. Throws with gsu flash's complaint. */
export function layBoardTree(dir: string): string {
  const f = spawnSync(process.execPath, [join(root, "bin/gsu.js"), "flash", "--root", dir, "--profile", "raspberry-pi"], { encoding: "utf8" });
  if (f.status !== 0) throw new Error(`gsu flash --root ${dir} --profile raspberry-pi exited ${f.status}: ${(f.stderr ?? "").slice(-600)}`);
  const opt = join(dir, "opt/gsu");
  symlinkSync(join(root, "node_modules"), join(opt, "node_modules"));
  return opt;
}
