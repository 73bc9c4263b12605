/** `--name value` from the command line of a tool script, or the default when the flag is absent. */
export function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  if (i < 0) return dflt;
  const v = process.argv[i + 1];
  // A flag given without its value would otherwise run on the default, or take the next flag as its value.
  if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value.`);
  return v;
}
