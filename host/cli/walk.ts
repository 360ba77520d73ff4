// Placeholder: `gsu walk` is not implemented yet (to be replaced).

export function run(_argv: string[]): number {
  console.error('walk: not implemented yet');
  return 1;
}
