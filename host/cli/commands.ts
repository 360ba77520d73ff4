// Subcommand dispatch table for the `gsu` CLI.
//
// To add a subcommand: write host/cli/<name>.ts exporting
//   export function run(argv: string[]): number | Promise<number>
//   export const help = `...`;            // optional, printed by `gsu <name> --help`
// and add ONE line to `commands` below:
//   <name>: lazy('One-line summary.', () => import('./<name>.ts')),
//
// Modules are imported only when their subcommand runs (or its help is
// shown), so a broken or heavy subcommand never slows down the others.

/** What a subcommand module exports. */
export interface CommandModule {
  /** Runs the subcommand with the arguments after its name; returns the exit status. */
  run(argv: string[]): number | void | Promise<number | void>;
  /** Extra help text (options, examples) shown by `gsu <name> --help`. */
  help?: string;
}

export interface Command {
  /** One line shown in `gsu --help`. */
  summary: string;
  /** Runs the subcommand; resolves to its exit status. */
  run(argv: string[]): Promise<number>;
  /** The module's extra help text, if any. */
  help(): Promise<string | undefined>;
}

/** Builds a Command whose module is imported on first use. */
export function lazy(summary: string, load: () => Promise<CommandModule>): Command {
  return {
    summary,
    async run(argv) {
      const status = await (await load()).run(argv);
      return typeof status === 'number' ? status : 0;
    },
    async help() {
      return (await load()).help;
    },
  };
}

export const commands: Record<string, Command> = {
  board: lazy('Run this board: hosted components, uploads, telecommands, telemetry (systemd runs it).', () => import('./board.ts')),
  candump: lazy('Print the frames on a CAN bus in can-utils candump format (-L: log lines).', () => import('./candump.ts')),
  cansend: lazy('Send one CAN frame in can-utils cansend syntax (123#DEADBEEF, 1ABCDE01#11.22, 123#R).', () => import('./cansend.ts')),
  keygen: lazy('Generate an Ed25519 key pair for signing component images.', () => import('./keygen.ts')),
  sign: lazy('Sign a component (manifest + wasm) into an image a board will accept.', () => import('./sign.ts')),
  verify: lazy('Check a signed image as a board would; print its manifest or why it is refused.', () => import('./verify.ts')),
  ground: lazy('The ground server for a link: archive, event-log sync, local clients, web console.', () => import('./ground.ts')),
  export: lazy('Export telemetry or a candump log to pcap (Wireshark), the dictionary to XTCE (Yamcs).', () => import('./export.ts')),
  telemetry: lazy('Ground view of board telemetry (CCSDS packets): live table, events, JSON Lines recording.', () => import('./telemetry.ts')),
  report: lazy('HTML report with plots from a telemetry recording or a rehearsal trace (JSON Lines).', () => import('./report.ts')),
  flash: lazy('Deploy the board runtime to a Raspberry Pi or BeagleBone over ssh (or into --root DIR).', () => import('./flash.ts')),
  upload: lazy('Upload a signed image to a board over a link (resumable, with progress).', () => import('./upload.ts')),
  upgrade: lazy('Start guarded operation on a board: gsu upgrade estimator@2.0.0 ... (signed telecommand).', () => import('./upgrade.ts')),
  commit: lazy('Commit the guarded upgrade running on a board (signed telecommand).', () => import('./commit.ts')),
  abort: lazy('Abort the guarded upgrade on a board, back to the old versions (signed telecommand).', () => import('./abort.ts')),
  fault: lazy('Inject a fault into a new component version on a board: COMP@STEP (signed telecommand).', () => import('./fault.ts')),
  status: lazy('Ask a board for its versions, slots and guarded operation (read-only query, or signed telecommand).', () => import('./status.ts')),
  resync: lazy('Recover a board whose telecommand replay state is corrupt (signed resync telecommand).', () => import('./resync.ts')),
  rehearse: lazy('Rehearse an onboard upgrade on a simulated testbed: fault, detection, recovery.', () => import('./rehearse.ts')),
  'build-component': lazy('Compile your AssemblyScript component (DIR/index.ts + manifest.json) into its wasm.', () => import('./build-component.ts')),
};
