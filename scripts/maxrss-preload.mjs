// Preloaded by scripts/bench-memory.ts (node --import): prints the process's peak resident
// set size at exit, as the last line on stderr.
process.on("exit", () => { process.stderr.write(`\nGSU_MAXRSS_KB ${process.resourceUsage().maxRSS}\n`); });
