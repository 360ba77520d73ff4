// The protocol's terms as reports, the live view and the web console show them, in plain words
// (the paper's notation in docs/protocol.md; the channels in hardware/dictionary.json).

export const GLOSSARY: [term: string, meaning: string][] = [
  ["AT", "acceptance test: checks a message to a device before the device gets it; a failed AT starts recovery"],
  ["guarded operation", "the time after an upgrade while the new versions run under watch, until commit (trusted) or recovery (rolled back)"],
  ["cluster", "the upgraded components plus every component whose interface changes with them; their new versions run together"],
  ["low", "role: a new version in guarded operation (low confidence); its device messages pass an AT"],
  ["ha", "role: an active process that was not upgraded (high confidence, active)"],
  ["hs", "role: an old version running as a shadow (high confidence, shadow); its outputs are suppressed and logged until it takes over"],
  ["retired", "role: a process that no longer runs (a shadow after commit, a new version after recovery)"],
  ["base / new / old", "which version a process runs: base (not upgraded), new (the upgrade), old (the version it replaces)"],
  ["dirty", "the process state may depend on a message not yet validated by a passed AT; a dirty message makes its receiver checkpoint"],
  ["int_mSN low", "int_mSN_G^low: shared count of internal messages sent by the cluster's new versions (indexes checkpoints and logs)"],
  ["sdw", "int_mSN_G^high_sdw: the same count for the shadows' (old versions') internal messages"],
  ["v, vext", "the bounds a passed AT validates: internal (v) and device (vext) message counts up to which outputs are known good"],
  ["V, Vext", "the bounds a recovery agrees on: every process rolls back to the state after message V (device messages after Vext are replayed or suppressed)"],
  ["epoch", "recovery round number; frames from an older epoch are dropped"],
  ["rollback distance", "messages a process undid when it rolled back to its checkpoint"],
  ["takeover", "an old version (shadow) becomes the active process after recovery"],
  ["commit", "the new versions become trusted; shadows retire; protocol memory is freed"],
  ["ended by", "how guarded operation ended: commit, recovery (rolled back to the old versions), guarded (still guarded when the run ended), reference (no upgrade)"],
  ["held B, peak B", "protocol memory (checkpoints + message logs) held now / at most, bytes"],
];

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** An HTML definition list of the terms. */
export function glossaryHtml(): string {
  return `<h2 id="terms">Terms</h2><dl class="terms">${GLOSSARY.map(([t, m]) => `<dt>${esc(t)}</dt><dd>${esc(m)}</dd>`).join("")}</dl>`;
}

export const GLOSSARY_CSS = `dl.terms{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;font-size:13px}dl.terms dt{font-weight:bold;font-family:monospace}dl.terms dd{margin:0}`;

/** Plain text, one term a line (help texts). */
export function glossaryText(indent = "  "): string {
  const w = Math.max(...GLOSSARY.map(([t]) => t.length));
  return GLOSSARY.map(([t, m]) => `${indent}${t.padEnd(w)}  ${m}`).join("\n");
}
