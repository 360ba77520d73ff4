// as-pect 8.1 loads this file with a dynamic `import()`, so in this ESM
// package ("type": "module") it must use `export default`, not module.exports.
export default {
  /** Globs of spec files (as-pect convention). */
  entries: ["assembly/__tests__/**/*.spec.ts"],
  /** Globs of files added to every spec compilation. */
  include: ["assembly/__tests__/**/*.include.ts"],
  /** Regexps excluding source files from testing. */
  disclude: [/node_modules/],
  /** Wasm imports for the spec modules. */
  async instantiate(memory, createImports, instantiate, binary) {
    const myImports = {
      env: { memory },
    };
    return instantiate(binary, createImports(myImports));
  },
  /** Enable code coverage. */
  // coverage: ["assembly/**/*.ts"],
  /** Write each spec's compiled wasm next to it (debugging only). */
  outputBinary: false,
};
